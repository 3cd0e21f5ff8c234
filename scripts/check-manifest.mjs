#!/usr/bin/env node
// Checks the generated custom-elements.json against the built elements themselves: every tag that
// `define` registers has a `custom-element-definition` and a documented class; every Lit property and
// public getter, every attribute, every event (with its class), slot, CSS part and CSS custom property is
// listed, and nothing else; every path points into the shipped package; no internal state leaks out.
import { existsSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';

const widget = new URL('../packages/widget/', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('custom-elements.json', widget), 'utf8'));
const problems = [];
const compare = (what, listed, actual) => {
  const missing = [...actual].filter((name) => !listed.has(name));
  const extra = [...listed].filter((name) => !actual.has(name));
  if (missing.length > 0) problems.push(`${what}: missing ${missing.join(', ')}`);
  if (extra.length > 0) problems.push(`${what}: lists ${extra.join(', ')}, which it does not have`);
};

// The tags `@jobtracker/widget/define` registers, with their classes, from the built module.
const registered = new Map();
globalThis.customElements = {
  get: (tag) => registered.get(tag),
  define: (tag, element) => registered.set(tag, element),
};
await import(new URL('dist/define.js', widget).href);
const events = await import(new URL('dist/shared/events.js', widget).href);
const eventNames = new Map(Object.values(events).map((event) => [event.name, event.eventName]));

const shipped = (path) => path?.startsWith('dist/') && existsSync(new URL(path, widget));
const modules = new Map(manifest.modules.map((module) => [module.path, module]));
for (const module of manifest.modules) {
  if (!shipped(module.path)) problems.push(`module ${module.path} is not a shipped file`);
  const exported = new Set((module.exports ?? []).map((entry) => entry.declaration?.name ?? entry.name));
  for (const entry of module.exports ?? []) {
    if (entry.declaration?.module && !shipped(entry.declaration.module))
      problems.push(
        `${module.path} exports ${entry.name} from ${entry.declaration.module}, not a shipped file`,
      );
  }
  for (const declaration of module.declarations ?? []) {
    if (!exported.has(declaration.name))
      problems.push(`${module.path} lists ${declaration.name}, which it does not export`);
  }
}

const definitions = manifest.modules.flatMap((module) =>
  (module.exports ?? []).filter((entry) => entry.kind === 'custom-element-definition'),
);
compare(
  'custom-element-definitions',
  new Set(definitions.map((entry) => entry.name)),
  new Set(registered.keys()),
);

/** The `--job-*` custom properties an element's styles read, directly or through a `--jt-*` token. */
function cssProperties(element) {
  const text = [element.styles ?? []]
    .flat(Infinity)
    .map((style) => style.cssText)
    .join('\n');
  const tokens = new Map(
    [...text.matchAll(/(--jt-[\w-]+):\s*var\((--job-[\w-]+)/g)].map((m) => [m[1], m[2]]),
  );
  const read = new Set([...text.matchAll(/var\((--jt-[\w-]+)/g)].map((m) => tokens.get(m[1]) ?? m[1]));
  for (const [, property] of text.matchAll(/(?<!--jt-[\w-]+:\s*)var\((--job-[\w-]+)/g)) read.add(property);
  return read;
}

/** The source of `path` and of every module of the package it imports, directly or not. */
function localSources(path, found = new Map()) {
  if (found.has(path)) return found;
  const text = readFileSync(new URL(path, widget), 'utf8');
  found.set(path, text);
  for (const [, specifier] of text.matchAll(/^import [^;]*? from '(\.[^']+)\.js';$/gm))
    localSources(posix.join(posix.dirname(path), `${specifier}.ts`), found);
  return found;
}

for (const [tag, element] of registered) {
  const definition = definitions.find((entry) => entry.name === tag);
  const module = modules.get(definition?.declaration.module);
  const declaration = module?.declarations?.find((d) => d.name === element.name && d.customElement);
  if (!definition || definition.declaration.name !== element.name || !declaration) {
    problems.push(`<${tag}> (${element.name}) has no custom-element-definition pointing at its class`);
    continue;
  }
  if (declaration.tagName !== tag) problems.push(`${element.name} is documented as <${declaration.tagName}>`);
  if (!declaration.summary) problems.push(`<${tag}> has no @summary`);

  const members = declaration.members ?? [];
  const properties = Object.entries(element.properties ?? {});
  const getters = Object.entries(Object.getOwnPropertyDescriptors(element.prototype))
    .filter(([name, descriptor]) => descriptor.get && !name.startsWith('_'))
    .map(([name]) => name);
  compare(
    `<${tag}> properties`,
    new Set(members.map((member) => member.name)),
    new Set([...properties.map(([name]) => name), ...getters]),
  );
  for (const member of members) {
    if (member.name.startsWith('#') || member.name.startsWith('_'))
      problems.push(`<${tag}> exposes ${member.name}`);
    if (!member.description) problems.push(`<${tag}>'s ${member.name} has no description`);
  }

  const attributes = new Map(
    properties
      .filter(([, options]) => options.attribute !== false)
      .map(([name, options]) => [
        typeof options.attribute === 'string' ? options.attribute : name.toLowerCase(),
        name,
      ]),
  );
  const reflected = new Map(
    (declaration.attributes ?? [])
      .filter((attribute) => !attributes.has(attribute.name))
      .map((attribute) => [attribute.name, members.find((m) => m.name === attribute.fieldName)]),
  );
  for (const [name, field] of reflected) {
    // An attribute the element sets itself (job-badge's `count`) belongs to a read-only property.
    if (!field?.readonly)
      problems.push(`<${tag} ${name}> is neither a Lit property's attribute nor a read-only property's`);
    else attributes.set(name, field.name);
  }
  compare(
    `<${tag}> attributes`,
    new Set((declaration.attributes ?? []).map((a) => a.name)),
    new Set(attributes.keys()),
  );
  for (const attribute of declaration.attributes ?? []) {
    if (attribute.fieldName !== attributes.get(attribute.name))
      problems.push(
        `<${tag} ${attribute.name}> is linked to ${attribute.fieldName}, not ${attributes.get(attribute.name)}`,
      );
  }

  const source = readFileSync(new URL(`src/${tag}/${tag}.ts`, widget), 'utf8');
  // Events may be dispatched by the controllers the element uses (shared/job-actions.ts): read them too.
  const dispatched = new Set(
    [...localSources(`src/${tag}/${tag}.ts`).values()].flatMap((text) =>
      [...text.matchAll(/new (Job\w+Event)\(/g)].map((m) => eventNames.get(m[1])),
    ),
  );
  compare(`<${tag}> events`, new Set((declaration.events ?? []).map((event) => event.name)), dispatched);
  for (const event of declaration.events ?? []) {
    const type = event.type?.text;
    if (eventNames.get(type) !== event.name) problems.push(`<${tag}>'s ${event.name} is typed ${type}`);
    if (!event.type?.references?.every((reference) => shipped(reference.module)))
      problems.push(`<${tag}>'s ${event.name} type points at no shipped module`);
  }

  const slots = new Set(
    [...source.matchAll(/<slot\b([^>]*)>/g)].map((m) => /name="([^"]+)"/.exec(m[1])?.[1] ?? ''),
  );
  compare(`<${tag}> slots`, new Set((declaration.slots ?? []).map((slot) => slot.name)), slots);

  const parts = (text) => new Set([...text.matchAll(/\bpart="([\w-]+)"/g)].map((m) => m[1]));
  const own = parts(source);
  const shared = source.includes('shared/job-view.js')
    ? parts(readFileSync(new URL('src/shared/job-view.ts', widget), 'utf8'))
    : new Set();
  const listedParts = new Set((declaration.cssParts ?? []).map((part) => part.name));
  for (const part of own) if (!listedParts.has(part)) problems.push(`<${tag}> part "${part}" is not listed`);
  for (const part of listedParts)
    if (!own.has(part) && !shared.has(part))
      problems.push(`<${tag}> lists part "${part}", which it never renders`);

  compare(
    `<${tag}> CSS custom properties`,
    new Set((declaration.cssProperties ?? []).map((p) => p.name)),
    cssProperties(element),
  );
}

if (problems.length > 0) {
  console.error(`✗ custom-elements.json:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`✓ custom-elements.json documents ${registered.size} elements as built`);
