#!/usr/bin/env node
// Entry point of the `zhusuan` command; the program itself is compiled TypeScript.
import { main } from '../dist/src/main.js';

process.exitCode = await main(process.argv.slice(2));
