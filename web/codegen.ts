// graphql-codegen: typed documents from ../schema.graphql (see docs/frontend.md).
// `strictScalars` makes generation fail for a scalar without a mapping here.
import type { CodegenConfig } from "@graphql-codegen/cli";

const scalars = {
  UUID: "string",
  Date: "string",
  DateTime: "string",
  Rupiah: "number",
};

const config: CodegenConfig = {
  schema: "../schema.graphql",
  generates: {
    // The typed-client check (docs/frontend.md).
    "check/generated/": {
      documents: ["check/**/*.graphql"],
      preset: "client",
      config: { strictScalars: true, scalars, enumsAsTypes: true, useTypeImports: true },
    },
    // The front ends served by the gateway: documents as typed strings (no GraphQL runtime in
    // the bundle), with the persisted-documents manifest `sinergi documents register` takes.
    "apps/shared/gql/": {
      documents: ["apps/**/*.graphql"],
      preset: "client",
      presetConfig: { persistedDocuments: { hashAlgorithm: "sha256" }, fragmentMasking: false },
      config: {
        strictScalars: true,
        scalars,
        enumsAsTypes: true,
        useTypeImports: true,
        documentMode: "string",
      },
    },
  },
};

export default config;
