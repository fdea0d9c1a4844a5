// graphql-codegen: typed documents from ../schema.graphql (see docs/frontend.md).
// `strictScalars` makes generation fail for a scalar without a mapping here.
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "../schema.graphql",
  documents: ["check/**/*.graphql"],
  generates: {
    "check/generated/": {
      preset: "client",
      config: {
        strictScalars: true,
        scalars: {
          UUID: "string",
          Date: "string",
          DateTime: "string",
          Rupiah: "number",
        },
        enumsAsTypes: true,
        useTypeImports: true,
      },
    },
  },
};

export default config;
