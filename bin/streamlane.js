#!/usr/bin/env node
// The published package runs the compiled CLI; a checkout without a build runs the TypeScript sources directly.
import { existsSync } from 'node:fs'

const compiled = new URL('../dist/cli/main.js', import.meta.url)
const entry = existsSync(compiled) ? compiled : new URL('../src/cli/main.ts', import.meta.url)
const { main } = await import(entry.href)
await main(process.argv)
