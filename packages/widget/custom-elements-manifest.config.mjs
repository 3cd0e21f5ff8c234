// `cem analyze` reads the elements' class JSDoc (the public manual) into custom-elements.json. The plugins
// make it describe the package as shipped: paths into `dist`, one `custom-element-definition` per
// `defineElement(tag, Class)` call, event types linked to their classes, and nothing a user cannot reach.
import { posix } from 'node:path';

const VALID_TAG = /^[a-z][a-z0-9._]*-[a-z0-9._-]*$/;

/** `src/job-badge/job-badge.ts` (or a specifier relative to `from`) → `dist/job-badge/job-badge.js`. */
function shippedPath(path, from) {
  const resolved = from && path.startsWith('.') ? posix.join(posix.dirname(from), path) : path;
  return resolved.replace(/^src\//, 'dist/').replace(/\.ts$/, '.js');
}

/** `defineElement('job-badge', JobBadge)` registers a tag just as `customElements.define` does. */
function defineElementCalls() {
  return {
    name: 'jobtracker: defineElement calls',
    analyzePhase({ ts, node, moduleDoc }) {
      if (node.kind !== ts.SyntaxKind.CallExpression || node.expression.getText() !== 'defineElement') return;
      const [tag, element] = node.arguments;
      if (!tag || !element || !ts.isStringLiteral(tag) || !ts.isIdentifier(element)) return;
      const imported = node
        .getSourceFile()
        .statements.filter(ts.isImportDeclaration)
        .find((statement) =>
          statement.importClause?.namedBindings?.elements?.some(
            (binding) => binding.name.text === element.text,
          ),
        );
      const module = imported
        ? posix.join(posix.dirname(moduleDoc.path), imported.moduleSpecifier.text)
        : moduleDoc.path;
      moduleDoc.exports.push({
        kind: 'custom-element-definition',
        name: tag.text,
        declaration: { name: element.text, module },
      });
    },
  };
}

/** Rewrites the manifest to the shipped package and drops what is not public. */
function shippedPackage() {
  return {
    name: 'jobtracker: shipped package',
    packageLinkPhase({ customElementsManifest }) {
      const classes = new Map();
      for (const module of customElementsManifest.modules) {
        // `customElements.define(tag, element)` inside defineElement itself names no tag.
        module.exports = (module.exports ?? []).filter(
          (entry) => entry.kind !== 'custom-element-definition' || VALID_TAG.test(entry.name),
        );
        const exported = new Set(module.exports.map((entry) => entry.declaration?.name ?? entry.name));
        module.declarations = (module.declarations ?? []).filter((declaration) =>
          exported.has(declaration.name),
        );
        for (const entry of module.exports) {
          if (entry.declaration?.module)
            entry.declaration.module = shippedPath(entry.declaration.module, module.path);
        }
        for (const declaration of module.declarations) {
          if (declaration.kind === 'class') classes.set(declaration.name, shippedPath(module.path));
          if (declaration.members)
            declaration.members = declaration.members.filter((m) => !m.name.startsWith('#'));
          for (const attribute of declaration.attributes ?? []) {
            if (!attribute.fieldName && declaration.members?.some((member) => member.name === attribute.name))
              attribute.fieldName = attribute.name;
          }
        }
        module.path = shippedPath(module.path);
      }
      for (const module of customElementsManifest.modules) {
        for (const declaration of module.declarations) {
          for (const event of declaration.events ?? []) {
            const module = classes.get(event.type?.text);
            if (module)
              event.type.references = [
                { name: event.type.text, module, start: 0, end: event.type.text.length },
              ];
          }
        }
      }
    },
  };
}

export default {
  globs: ['src/**/*.ts'],
  // The drop-in's own files (standalone.ts, drop-in/) define tags again: the manifest describes the package's define.
  exclude: ['src/**/*.test.ts', 'src/testing/**', 'src/standalone.ts', 'src/drop-in/**'],
  outdir: '.',
  litelement: true,
  plugins: [defineElementCalls(), shippedPackage()],
};
