/** Writes a grid scenario module (scenarios/*.ts shape) from a dataset analysis. */
import type { DatasetAnalysis } from "./analyze_dataset.ts";

/**
 * Source of a TypeScript scenario file that default-exports a grid scenario
 * (`defineScenario({ kind: "grid", ... })`, see lib/scenario) with four cases: the dataset's
 * typical request (p50 prompt, p50 output) and the conservative, recommended and comprehensive
 * settings.
 *
 * @param a The analysis; it must have outputs.
 * @param name Scenario name (letters, digits, ".", "_", "-").
 * @param scenarioModule Import specifier of lib/scenario/mod.ts as seen from the file written.
 * @returns The module source.
 * @throws {RangeError} When the analysis has no outputs (no n-predict to choose).
 * @throws {TypeError} When name is not a valid scenario name.
 * @example
 * ```ts
 * import { analyzeDataset } from "./analyze_dataset.ts";
 * import { datasetScenarioSource } from "./dataset_scenario_source.ts";
 * import { createWhitespaceTokenizer } from "../tokenizer/mod.ts";
 * const path = await Deno.makeTempFile({ suffix: ".jsonl" });
 * await Deno.writeTextFile(path, '{"prompt": "a b c", "output": "d e"}\n');
 * const a = await analyzeDataset(path, { tokenizer: createWhitespaceTokenizer() });
 * datasetScenarioSource(a, "tiny", "../lib/scenario/mod.ts").includes('kind: "grid"'); // true
 * ```
 */
export function datasetScenarioSource(
  a: DatasetAnalysis,
  name: string,
  scenarioModule: string,
): string {
  if (!/^[A-Za-z0-9._-]+$/.test(name)) {
    throw new TypeError(
      `Cannot write a scenario: name "${name}" must be letters, digits, ".", "_" or "-"`,
    );
  }
  if (a.output === null) {
    throw new RangeError(
      `Cannot write a scenario for "${a.file}": no record has an output, so n-predict is unknown`,
    );
  }
  const cases = [
    {
      id: "typical",
      promptTokens: Math.max(1, a.prompt.p50),
      decodeTokens: Math.max(1, a.output.p50),
      description: "Median request of the dataset (p50 prompt, p50 output)",
    },
    ...a.recommendations.map((r) => ({
      id: r.name,
      promptTokens: r.nPrompt,
      decodeTokens: r.nPredict,
      description: `${r.useCase}: n-predict covers ${(r.share * 100).toFixed(1)}% of outputs` +
        (r.reached ? "" : ` (target ${(r.target * 100).toFixed(0)}% not reached)`),
    })),
  ];
  const description = `Request shapes from ${a.records} records of ${a.file} ` +
    `(${a.tokenizer.source} tokenizer)`;
  const caseLines = cases.map((c) =>
    `    {\n      id: ${JSON.stringify(c.id)},\n      promptTokens: ${c.promptTokens},\n` +
    `      decodeTokens: ${c.decodeTokens},\n      description: ${
      JSON.stringify(c.description)
    },\n    },`
  );
  return [
    "/**",
    ` * ${name}: request shapes chosen from a dataset's token lengths`,
    ` * (written by scripts/analyze-dataset.ts).`,
    ` * Prompts: mean ${
      a.prompt.mean.toFixed(1)
    }, p50 ${a.prompt.p50}, p99 ${a.prompt.p99} tokens; ` +
    `outputs: p50 ${a.output.p50}, p90 ${a.output.p90}, p99 ${a.output.p99}.`,
    ` * Run: deno task bench <this file>`,
    " */",
    `import { defineScenario } from ${JSON.stringify(scenarioModule)};`,
    "",
    "export default defineScenario({",
    `  kind: "grid",`,
    `  name: ${JSON.stringify(name)},`,
    `  description: ${JSON.stringify(description)},`,
    "  cases: [",
    ...caseLines,
    "  ],",
    "});",
    "",
  ].join("\n");
}
