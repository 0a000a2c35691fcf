/**
 * The served OpenAPI document as a test contract: every response a test reads through
 * `contract.get` must have a status the document lists for that path, and a JSON body that
 * validates against the document's schema for it (ajv, JSON Schema 2020-12 as OpenAPI 3.1 uses).
 */
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { expect } from 'vitest';

const DOC_ID = 'https://modelctl.invalid/openapi.json';

export interface ContractResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export interface Contract {
  doc: Record<string, any>;
  /** GET `template` (an OpenAPI path) with path params and query; checks the answer against the document. */
  get<T = any>(template: string, params?: Record<string, string>, query?: Record<string, string>, headers?: Record<string, string>): Promise<ContractResponse<T>>;
  /** Checks an already-read JSON body against the schema of `template`/`status`. */
  check(template: string, status: number, body: unknown): void;
  /** Checks a body against a named component schema. */
  checkSchema(name: string, body: unknown): void;
}

const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

/** Loads /api/openapi.json from a running server and builds the contract. */
export async function loadContract(baseUrl: string, authHeaders: Record<string, string> = {}): Promise<Contract> {
  const doc = (await (await fetch(new URL('api/openapi.json', baseUrl), { headers: authHeaders })).json()) as Record<string, any>;
  const ajv = new (Ajv2020 as unknown as typeof Ajv2020.default)({ strict: false, allErrors: true });
  (addFormats as unknown as typeof addFormats.default)(ajv);
  ajv.addSchema({ ...doc, $id: DOC_ID });
  const validators = new Map<string, ReturnType<typeof ajv.compile>>();
  const validate = (ptr: string, body: unknown, what: string) => {
    let v = validators.get(ptr);
    if (!v) {
      v = ajv.compile({ $ref: `${DOC_ID}#/${ptr}` });
      validators.set(ptr, v);
    }
    const ok = v(body);
    expect(ok, `${what} does not match the OpenAPI document: ${ajv.errorsText(v.errors)}\n${JSON.stringify(body).slice(0, 500)}`).toBe(true);
  };
  const check = (template: string, status: number, body: unknown) => {
    const op = doc.paths?.[template]?.get;
    expect(op, `no GET ${template} in the OpenAPI document`).toBeTruthy();
    expect(Object.keys(op.responses), `status ${status} of GET ${template} is not documented`).toContain(String(status));
    if (body === undefined) return;
    validate(pointer('paths', template, 'get', 'responses', String(status), 'content', 'application/json', 'schema'), body, `GET ${template} ${status}`);
  };
  return {
    doc,
    check,
    checkSchema: (name, body) => validate(pointer('components', 'schemas', name), body, name),
    async get(template, params = {}, query = {}, headers = {}) {
      const path = template.replace(/\{(\w+)\}/g, (_, k: string) => (k === 'path' ? params[k].split('/').map(encodeURIComponent).join('/') : encodeURIComponent(params[k])));
      const url = new URL(path.slice(1), baseUrl);
      for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
      const res = await fetch(url, { headers: { ...authHeaders, ...headers } });
      const type = res.headers.get('content-type') ?? '';
      const body = type.startsWith('application/json') ? await res.json() : Buffer.from(await res.arrayBuffer());
      check(template, res.status, type.startsWith('application/json') ? body : undefined);
      return { status: res.status, headers: res.headers, body };
    },
  };
}
