import fc from 'fast-check';

/** The part of JSON Schema (draft 2020-12) that the job API's OpenAPI document uses. */
export interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
}

export interface SchemaArbitraryOptions {
  /** The schema a `$ref` names. */
  resolve: (ref: string) => JsonSchema;
  /** Characters strings are made of; default printable ASCII. */
  unit?: 'grapheme-ascii' | 'grapheme';
  /** Nesting through `$ref`s, arrays and objects beyond which only leaves are generated. Default 3. */
  maxDepth?: number;
}

const KNOWN = new Set([
  '$ref',
  'type',
  'const',
  'enum',
  'anyOf',
  'oneOf',
  'pattern',
  'format',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'items',
  'minItems',
  'maxItems',
  'properties',
  'required',
  'additionalProperties',
  'propertyNames',
  'description',
  'title',
  'default',
  'examples',
]);

const SMALL = 3;

/**
 * Values that satisfy a JSON schema, for property tests of what an API documents. Knows the keywords
 * in `JsonSchema` and throws on any other, so a schema it cannot honour fails loudly instead of
 * yielding values the schema refuses.
 */
export function arbitraryFromSchema(
  schema: JsonSchema,
  options: SchemaArbitraryOptions,
): fc.Arbitrary<unknown> {
  const maxDepth = options.maxDepth ?? 3;
  const unit = options.unit ?? 'grapheme-ascii';

  const isLeaf = (node: JsonSchema): boolean => {
    if (node.$ref !== undefined || node.anyOf || node.oneOf) return false;
    const types = node.type === undefined ? [] : [node.type].flat();
    return types.length > 0 && types.every((type) => type !== 'array' && type !== 'object');
  };

  const string = (node: JsonSchema): fc.Arbitrary<string> => {
    const minLength = node.minLength ?? 0;
    const maxLength = node.maxLength ?? Number.POSITIVE_INFINITY;
    const fits = (value: string) => value.length >= minLength && value.length <= maxLength;
    if (node.pattern !== undefined) return fc.stringMatching(new RegExp(node.pattern, 'u')).filter(fits);
    if (node.format === 'date-time')
      return fc.date({ noInvalidDate: true }).map((date) => date.toISOString());
    if (node.format !== undefined) throw new Error(`Unsupported string format "${node.format}".`);
    // Length in UTF-16 units, as zod and JSON Schema validators in JavaScript count it.
    return fc.string({ unit, minLength, maxLength: Math.min(maxLength, minLength + 20) }).filter(fits);
  };

  const number = (node: JsonSchema, integer: boolean): fc.Arbitrary<number> => {
    const low = node.exclusiveMinimum ?? node.minimum;
    const high = node.exclusiveMaximum ?? node.maximum;
    const fits = (value: number) =>
      (node.exclusiveMinimum === undefined || value > node.exclusiveMinimum) &&
      (node.exclusiveMaximum === undefined || value < node.exclusiveMaximum);
    if (integer) {
      return fc
        .integer({ min: Math.ceil(low ?? -1_000_000), max: Math.floor(high ?? 1_000_000) })
        .filter(fits);
    }
    return fc
      .double({ min: low ?? -1e12, max: high ?? 1e12, noNaN: true, noDefaultInfinity: true })
      .map((value) => (Object.is(value, -0) ? 0 : value))
      .filter(fits);
  };

  const build = (node: JsonSchema, depth: number): fc.Arbitrary<unknown> => {
    for (const key of Object.keys(node)) {
      if (!KNOWN.has(key)) throw new Error(`Unsupported JSON Schema keyword "${key}".`);
    }
    const deep = depth >= maxDepth;
    if (node.$ref !== undefined) return build(options.resolve(node.$ref), depth + 1);
    if (node.const !== undefined) return fc.constant(node.const);
    if (node.enum) return fc.constantFrom(...node.enum);
    const branches = node.anyOf ?? node.oneOf;
    if (branches) {
      const usable = deep ? branches.filter(isLeaf) : branches;
      return fc.oneof(...(usable.length > 0 ? usable : branches).map((branch) => build(branch, depth)));
    }
    if (Array.isArray(node.type)) {
      return fc.oneof(...node.type.map((type) => build({ ...node, type }, depth)));
    }
    switch (node.type) {
      case 'string':
        return string(node);
      case 'integer':
        return number(node, true);
      case 'number':
        return number(node, false);
      case 'boolean':
        return fc.boolean();
      case 'null':
        return fc.constant(null);
      case 'array': {
        const minLength = node.minItems ?? 0;
        const maxLength = Math.min(node.maxItems ?? SMALL, deep ? minLength : minLength + SMALL);
        return fc.array(build(node.items ?? {}, depth + 1), { minLength, maxLength });
      }
      case 'object': {
        const required = node.required ?? [];
        const properties = Object.fromEntries(
          Object.entries(node.properties ?? {})
            .filter(([name]) => !deep || required.includes(name))
            .map(([name, property]) => [name, build(property, depth + 1)]),
        );
        const named = fc.record(properties, { requiredKeys: required });
        const extra = node.additionalProperties;
        if (extra === undefined || extra === false || deep) return named;
        return fc
          .tuple(
            named,
            fc.dictionary(
              node.propertyNames ? string(node.propertyNames) : fc.string({ unit, maxLength: 10 }),
              build(extra === true ? {} : extra, depth + 1),
              { maxKeys: SMALL },
            ),
          )
          .map(([known, more]) => ({ ...more, ...known }));
      }
      case undefined:
        return fc.jsonValue({ maxDepth: 2 });
      default:
        throw new Error(`Unsupported JSON Schema type "${node.type}".`);
    }
  };

  return build(schema, 0);
}
