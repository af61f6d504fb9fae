/** Reading the OpenRPC document: the shapes the explorer needs, type names, examples. */

/** A JSON Schema, as msgspec writes them. */
export interface JsonSchema {
  $ref?: string;
  type?: string;
  title?: string;
  description?: string;
  format?: string;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  items?: JsonSchema | false;
  prefixItems?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: JsonSchema | boolean;
  default?: unknown;
  examples?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
}

export interface ContentDescriptor {
  name: string;
  required: boolean;
  schema: JsonSchema;
  description?: string;
}

export interface ErrorRow {
  code: number;
  message: string;
  data: { code: string; httpStatus: number };
}

export interface Method {
  name: string;
  summary: string;
  description?: string;
  tags: { name: string }[];
  params: ContentDescriptor[];
  result: ContentDescriptor;
  errors: { $ref: string }[];
  "x-kind"?: "query" | "mutation" | "subscription";
  "x-protected"?: boolean;
  /** A subscription's event type, and how it is served. */
  "x-subscription"?: { event: JsonSchema; notification: string; transports: string[]; resume: string };
}

export interface OpenRpcDocument {
  openrpc: string;
  info: { title: string; version: string };
  methods: Method[];
  components: { schemas: Record<string, JsonSchema>; errors: Record<string, ErrorRow> };
}

/** Looks up `$ref`s in the document's components. */
export class Schemas {
  constructor(private readonly doc: OpenRpcDocument) {}

  resolve(schema: JsonSchema): JsonSchema {
    let current = schema;
    for (let depth = 0; current.$ref !== undefined && depth < 32; depth++) {
      current = this.doc.components.schemas[current.$ref.split("/").pop() ?? ""] ?? {};
    }
    return current;
  }

  /** A short type name: `string`, `integer`, `Health`, `"a" | "b"`, `Being[] | null`. */
  typeName(schema: JsonSchema): string {
    if (schema.$ref !== undefined) return schema.$ref.split("/").pop() ?? "?";
    if (schema.enum !== undefined) return schema.enum.map((v) => JSON.stringify(v)).join(" | ");
    if (schema.anyOf !== undefined) return schema.anyOf.map((s) => this.typeName(s)).join(" | ");
    if (schema.type === "array" && schema.prefixItems !== undefined) {
      return `[${schema.prefixItems.map((s) => this.typeName(s)).join(", ")}]`;
    }
    if (schema.type === "array") {
      const item = schema.items ? this.typeName(schema.items) : "unknown";
      return item.includes(" ") ? `(${item})[]` : `${item}[]`;
    }
    if (schema.type === "object" && typeof schema.additionalProperties === "object") {
      return `Record<string, ${this.typeName(schema.additionalProperties)}>`;
    }
    const format = schema.format !== undefined ? ` (${schema.format})` : "";
    return (schema.type ?? "any") + format;
  }

  /** What the schema says beyond the type: bounds, lengths, pattern, default. */
  constraints(schema: JsonSchema): string[] {
    const out: string[] = [];
    const add = (label: string, value: unknown) => value !== undefined && out.push(`${label} ${String(value)}`);
    add("≥", schema.minimum);
    add(">", schema.exclusiveMinimum);
    add("≤", schema.maximum);
    add("<", schema.exclusiveMaximum);
    add("min length", schema.minLength);
    add("max length", schema.maxLength);
    add("min items", schema.minItems);
    add("max items", schema.maxItems);
    if (schema.pattern !== undefined) out.push(`pattern ${schema.pattern}`);
    if (schema.default !== undefined) out.push(`default ${JSON.stringify(schema.default)}`);
    return out;
  }

  /**
   * A value that fits the schema: defaults and examples first, then the simplest valid
   * value. Of several examples, a field named for a space or a room (`spaceId`,
   * `roomBeingId`) takes one that names a space (`@demo-space` of the demo world).
   */
  example(schema: JsonSchema, depth = 0, field = ""): unknown {
    if (depth > 8) return null;
    const s = this.resolve(schema);
    const demo = DEMO_FIELDS[field];
    if (demo !== undefined && s.enum === undefined && (s.type === "string" || typeof s.examples?.[0] === "string")) {
      return demo;
    }
    if (s.examples !== undefined && s.examples.length > 0) return pick(s.examples, field);
    if (s.default !== undefined) return s.default;
    if (s.enum !== undefined) return s.enum[0];
    if (s.anyOf !== undefined) {
      const concrete = s.anyOf.find((o) => o.type !== "null") ?? s.anyOf[0];
      return concrete === undefined ? null : this.example(concrete, depth + 1, field);
    }
    switch (s.type) {
      case "object": {
        const out: Record<string, unknown> = {};
        for (const [name, field] of Object.entries(s.properties ?? {})) {
          out[name] = this.example(field, depth + 1, name);
        }
        return out;
      }
      case "array":
        if (s.prefixItems !== undefined) return s.prefixItems.map((i) => this.example(i, depth + 1));
        return s.items ? [this.example(s.items, depth + 1)] : [];
      case "string":
        return stringExample(s);
      case "integer":
      case "number":
        return s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : 0);
      case "boolean":
        return false;
      case "null":
        return null;
      default:
        return null;
    }
  }
}

/** Fields whose example names something of the demo world (`roomrpc seed`). */
const DEMO_FIELDS: Record<string, string> = {
  roomId: "@demo-space",
  identity: "@bob",
  beingId: "@bob",
  message: "Hello from the explorer",
  content: "Hello from the explorer",
};

function pick(examples: unknown[], field: string): unknown {
  if (/space|room/i.test(field)) {
    const space = examples.find((e) => typeof e === "string" && /space|room/.test(e));
    if (space !== undefined) return space;
  }
  return examples[0];
}

function stringExample(s: JsonSchema): string {
  if (s.format === "date-time") return new Date(0).toISOString();
  if (s.format === "date") return "2024-01-01";
  if (s.format === "uuid") return "00000000-0000-0000-0000-000000000000";
  const base = s.pattern?.startsWith("^@") ? "@demo" : "string";
  const min = s.minLength ?? 0;
  return base.length >= min ? base.slice(0, s.maxLength ?? base.length) : base.padEnd(min, "x");
}
