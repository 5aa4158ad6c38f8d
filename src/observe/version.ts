/** Streamlane's version, as package.json says (a unit test keeps the two equal); reported by streamlane_app_info. */
export const STREAMLANE_VERSION = '0.1.0'
