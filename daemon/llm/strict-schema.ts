/**
 * Function tools are sent with `strict: true`, so the model's arguments always match their schema.
 * Strict mode accepts a subset of JSON Schema: every object closed (`additionalProperties: false`)
 * and every property required. `strictSchema` rewrites a tool's schema into that form, turning an
 * optional property into a required one that may be `null`; `restoreOptionalArguments` undoes it
 * on the way back (a `null` the model wrote for "absent" is dropped), so callers validate the
 * arguments against the schema they wrote.
 */
import type { JsonSchema, ToolDefinition } from './types.ts';

type SchemaNode = Record<string, unknown>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isObjectSchema(node: SchemaNode): boolean {
  return node.type === 'object' || (Array.isArray(node.type) && node.type.includes('object')) || isRecord(node.properties);
}

/** Keywords whose value is one subschema, a list of them, or a map of them. */
const SINGLE = ['items', 'not', 'contains'] as const;
const LISTS = ['anyOf', 'allOf', 'prefixItems'] as const;
const MAPS = ['$defs', 'definitions'] as const;

/** A copy of `schema` that strict mode accepts (the input is left as it is). */
export function strictSchema(schema: JsonSchema): JsonSchema {
  const root = strictNode(schema);
  // `$schema` says which draft the schema follows; strict mode has its own rules and no use for it.
  delete root.$schema;
  // Tool parameters are always an object, even when a tool takes none (`{}` means "anything").
  if (!isObjectSchema(root)) return { type: 'object', properties: {}, required: [], additionalProperties: false };
  return root;
}

function strictNode(input: unknown): SchemaNode {
  if (!isRecord(input)) return {};
  const node: SchemaNode = { ...input };
  for (const key of SINGLE) if (isRecord(node[key])) node[key] = strictNode(node[key]);
  for (const key of LISTS) if (Array.isArray(node[key])) node[key] = (node[key] as unknown[]).map(strictNode);
  for (const key of MAPS) {
    const map = node[key];
    if (isRecord(map)) node[key] = Object.fromEntries(Object.entries(map).map(([name, sub]) => [name, strictNode(sub)]));
  }
  // Strict mode has no `oneOf`; for arguments the model writes, `anyOf` means the same.
  if (Array.isArray(node.oneOf)) {
    node.anyOf = [...((node.anyOf as unknown[] | undefined) ?? []), ...node.oneOf.map(strictNode)];
    delete node.oneOf;
  }
  if (isObjectSchema(node)) {
    const properties = isRecord(node.properties) ? node.properties : {};
    const required = new Set(Array.isArray(node.required) ? node.required : []);
    node.properties = Object.fromEntries(
      Object.entries(properties).map(([name, sub]) => {
        const strict = strictNode(sub);
        return [name, required.has(name) ? strict : nullable(strict)];
      }),
    );
    node.required = Object.keys(properties);
    node.additionalProperties = false;
  }
  return node;
}

/** Whether a schema already accepts `null`. */
function allowsNull(node: unknown): boolean {
  if (!isRecord(node)) return false;
  if (node.type === 'null' || (Array.isArray(node.type) && node.type.includes('null'))) return true;
  if (node.const === null || (Array.isArray(node.enum) && node.enum.includes(null))) return true;
  return Array.isArray(node.anyOf) && node.anyOf.some(allowsNull);
}

/** The schema, also accepting `null` (the model's way to leave an optional property out). */
function nullable(node: SchemaNode): SchemaNode {
  if (allowsNull(node)) return node;
  const withNullEnum = Array.isArray(node.enum) ? { enum: [...node.enum, null] } : {};
  if (typeof node.type === 'string') return { ...node, type: [node.type, 'null'], ...withNullEnum };
  if (Array.isArray(node.type)) return { ...node, type: [...node.type, 'null'], ...withNullEnum };
  if (Array.isArray(node.anyOf)) return { ...node, anyOf: [...node.anyOf, { type: 'null' }] };
  return { anyOf: [node, { type: 'null' }] };
}

/**
 * The arguments with every `null` the model wrote for an optional property removed, following the
 * tool's original schema (local `$ref`s into `$defs` included). Anything else is left as it is.
 */
export function restoreOptionalArguments(value: unknown, schema: JsonSchema): unknown {
  return restore(value, schema, schema).value;
}

function resolveRef(node: unknown, root: JsonSchema): unknown {
  if (!isRecord(node) || typeof node.$ref !== 'string') return node;
  const match = /^#\/(\$defs|definitions)\/(.+)$/.exec(node.$ref);
  const defs = match ? root[match[1]!] : undefined;
  return isRecord(defs) ? defs[match![2]!] : node;
}

function restore(value: unknown, schemaNode: unknown, root: JsonSchema): { value: unknown; changed: boolean } {
  const node = resolveRef(schemaNode, root);
  if (!isRecord(node)) return { value, changed: false };
  if (Array.isArray(value) && isRecord(node.items)) {
    let changed = false;
    const items = value.map((item) => {
      const restored = restore(item, node.items, root);
      changed ||= restored.changed;
      return restored.value;
    });
    return changed ? { value: items, changed } : { value, changed };
  }
  if (!isRecord(value) || !isRecord(node.properties)) return { value, changed: false };
  const properties = node.properties;
  const required = new Set(Array.isArray(node.required) ? node.required : []);
  let changed = false;
  const result: Record<string, unknown> = {};
  for (const [name, item] of Object.entries(value)) {
    const property = resolveRef(properties[name], root);
    if (item === null && !required.has(name) && Object.hasOwn(properties, name) && !allowsNull(property)) {
      changed = true;
      continue;
    }
    const restored = restore(item, property, root);
    changed ||= restored.changed;
    result[name] = restored.value;
  }
  return changed ? { value: result, changed } : { value, changed };
}

/** For a request's tools: a tool call's arguments text with optional nulls dropped (unchanged when nothing was dropped, or it is not JSON). */
export function argumentRestorer(tools: readonly ToolDefinition[]): (name: string, argumentsText: string) => string {
  const schemas = new Map(tools.map((tool) => [tool.name, tool.parameters]));
  return (name, argumentsText) => {
    const schema = schemas.get(name);
    if (!schema) return argumentsText;
    let parsed: unknown;
    try {
      parsed = JSON.parse(argumentsText);
    } catch {
      return argumentsText; // the caller's validation reports it
    }
    const restored = restore(parsed, schema, schema);
    return restored.changed ? JSON.stringify(restored.value) : argumentsText;
  };
}
