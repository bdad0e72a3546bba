#!/usr/bin/env node
// kube-lego's command line (`npx kube-lego status`). The code is TypeScript run by Node's type stripping:
// this Node runs it when it can (22.18 or later), else the Node 24 the project pins (node_modules/.bin/node).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const [major, minor] = process.versions.node.split('.').map(Number);
const strips = major > 22 || (major === 22 && minor >= 18);
const pinned = fileURLToPath(new URL('../node_modules/.bin/node', import.meta.url));
const node = strips ? process.execPath : existsSync(pinned) ? pinned : undefined;
if (node === undefined) {
  process.stderr.write(`kube-lego: needs Node 22.18 or later (this is ${process.versions.node})\n`);
  process.exit(2);
}
const { status } = spawnSync(node, [main, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(status ?? 1);
