/**
 * The ModelPack config JSON Schema (draft 2020-12) of modelpack/model-spec
 * `schema/config-schema.json` at d78bf323 (test/fixtures/modelpack/SOURCES.md), as a value so
 * it ships inside the bundle, and its validator. Every config modelctl pushes is checked
 * against it; a foreign artifact's config is checked on pull. A unit test keeps this copy
 * equal to the upstream file.
 */
import type { ErrorObject } from 'ajv';

/** modelpack/model-spec schema/config-schema.json, unchanged. */
export const MODELPACK_CONFIG_SCHEMA = {
  "description": "Model Artifact Configuration Schema",
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://github.com/modelpack/model-spec/config",
  "type": "object",
  "properties": {
    "descriptor": {
      "$ref": "#/$defs/ModelDescriptor"
    },
    "modelfs": {
      "$ref": "#/$defs/ModelFS"
    },
    "config": {
      "$ref": "#/$defs/ModelConfig"
    }
  },
  "additionalProperties": false,
  "required": [
    "descriptor",
    "config",
    "modelfs"
  ],
  "$defs": {
    "ModelConfig": {
      "type": "object",
      "properties": {
        "architecture": {
          "type": "string"
        },
        "format": {
          "type": "string"
        },
        "paramSize": {
          "type": "string"
        },
        "precision": {
          "type": "string"
        },
        "quantization": {
          "type": "string"
        },
        "capabilities": {
          "$ref": "#/$defs/ModelCapabilities"
        }
      },
      "additionalProperties": false
    },
    "ModelDescriptor": {
      "type": "object",
      "properties": {
        "createdAt": {
          "type": "string",
          "format": "date-time"
        },
        "authors": {
          "type": "array",
          "items": {
            "type": "string"
          }
        },
        "family": {
          "type": "string"
        },
        "name": {
          "type": "string",
          "minLength": 1
        },
        "docURL": {
          "type": "string"
        },
        "sourceURL": {
          "type": "string"
        },
        "datasetsURL": {
          "type": "array",
          "items": {
            "type": "string"
          }
        },
        "version": {
          "type": "string"
        },
        "revision": {
          "type": "string"
        },
        "vendor": {
          "type": "string"
        },
        "licenses": {
          "type": "array",
          "items": {
            "type": "string"
          }
        },
        "title": {
          "type": "string"
        },
        "description": {
          "type": "string"
        }
      },
      "additionalProperties": false
    },
    "ModelFS": {
      "type": "object",
      "properties": {
        "type": {
          "type": "string",
          "enum": [
            "layers"
          ]
        },
        "diffIds": {
          "type": "array",
          "items": {
            "type": "string"
          },
          "minItems": 1
        }
      },
      "additionalProperties": false,
      "required": [
        "type",
        "diffIds"
      ]
    },
    "ModelCapabilities": {
      "type": "object",
      "properties": {
        "inputTypes": {
          "type": "array",
          "items": {
            "$ref": "#/$defs/Modality"
          }
        },
        "outputTypes": {
          "type": "array",
          "items": {
            "$ref": "#/$defs/Modality"
          }
        },
        "knowledgeCutoff": {
          "type": "string",
          "format": "date-time"
        },
        "reasoning": {
          "type": "boolean"
        },
        "toolUsage": {
          "type": "boolean"
        },
        "reward": {
          "type": "boolean"
        },
        "languages": {
          "type": "array",
          "items": {
            "type": "string",
            "pattern": "^[a-z]{2}$"
          }
        }
      },
      "additionalProperties": false
    },
    "Modality": {
      "type": "string",
      "enum": [
        "text",
        "image",
        "audio",
        "video",
        "embedding",
        "other"
      ]
    }
  }
} as const;

/**
 * The schema errors of a ModelPack config (empty when valid). Formats (`date-time`) are
 * asserted, as the upstream Go validator does (`AssertFormat = true`). The validator is
 * ajv's standalone code for MODELPACK_CONFIG_SCHEMA, generated once
 * (src/gen-modelpack-validator.mjs): compiling the schema at run time cost every OCI push
 * 60–110 ms. Loaded on first use.
 */
export async function modelPackConfigErrors(value: unknown): Promise<string[]> {
  const { validate } = (await import('./modelpack-config-validator.generated.js')) as { validate: ((v: unknown) => boolean) & { errors?: ErrorObject[] | null } };
  return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message ?? 'is invalid'}`);
}
