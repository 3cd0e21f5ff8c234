#!/usr/bin/env node
// Checks the generated custom-elements.json: every element is there, documented, with no internal state
// leaking out as an attribute.
import { readFileSync } from 'node:fs';

const manifest = JSON.parse(
  readFileSync(new URL('../packages/widget/custom-elements.json', import.meta.url), 'utf8'),
);
const elements = manifest.modules
  .flatMap((module) => module.declarations ?? [])
  .filter((d) => d.customElement);
const expected = ['job-provider', 'job-tracker', 'job-badge', 'job-list', 'job-button'];
const problems = [];
for (const tag of expected) {
  const element = elements.find((d) => d.tagName === tag);
  if (!element) problems.push(`${tag} is missing`);
  else {
    if (!element.summary) problems.push(`${tag} has no @summary`);
    for (const attribute of element.attributes ?? []) {
      if (attribute.name.startsWith('_')) problems.push(`${tag} exposes internal state "${attribute.name}"`);
    }
  }
}
if (problems.length > 0) {
  console.error(`✗ custom-elements.json: ${problems.join('; ')}`);
  process.exit(1);
}
console.log(`✓ custom-elements.json documents ${expected.length} elements`);
