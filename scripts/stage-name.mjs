#!/usr/bin/env node
// A stage name per Git branch that keeps every AWS name under its limit: the branch slug cut to
// 20 characters plus a 6-character hash of the whole slug, so two long branches never collide.
import { createHash } from 'node:crypto';

export function stageName(branch) {
  const slug = branch
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (!slug) throw new Error(`Branch name "${branch}" has no usable characters`);
  const hash = createHash('sha256').update(slug).digest('hex').slice(0, 6);
  const head = slug.slice(0, 20).replace(/-+$/, '');
  return /^[a-z]/.test(head) ? `${head}-${hash}` : `b${head.slice(0, 19).replace(/-+$/, '')}-${hash}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const branch = process.argv[2] ?? process.env.CI_COMMIT_REF_NAME;
  if (!branch) {
    console.error('usage: stage-name.mjs <branch>');
    process.exit(2);
  }
  console.log(stageName(branch));
}
