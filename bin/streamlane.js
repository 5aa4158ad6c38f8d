#!/usr/bin/env node
// The installed package runs the compiled CLI (dist/). A checkout runs the TypeScript sources even after a build, so
// the CLI and an app that imports src/ (the examples do) share one copy of Streamlane's classes.
import { existsSync } from 'node:fs'

const sources = new URL('../src/cli/main.ts', import.meta.url)
const inCheckout = existsSync(sources) && !sources.pathname.includes('/node_modules/')
const entry = inCheckout ? sources : new URL('../dist/cli/main.js', import.meta.url)
const { main } = await import(entry.href)
await main(process.argv)
