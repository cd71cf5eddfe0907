/** What the HTTP kind runners share: the resolved target settings, the tokenizer, the hooks. */
import type { Case } from "../results/types.ts";
import type { BenchOptions } from "../runner/types.ts";
import type { TextTokenizer } from "../tokenizer/types.ts";
import type { Slo } from "./http_run_figures.ts";
import type { HttpLoadPlan, HttpLoadRun } from "./run_http_load.ts";
import type { HttpApi, HttpTimeouts } from "./types.ts";

/** The HTTP target as resolved from the CLI and the scenario's `http` block. */
export interface HttpSettings {
  endpoints: string[];
  /** The API asked for on the command line, or null (each kind picks its default). */
  api: HttpApi | null;
  modelName: string;
  apiKey?: string;
  apiKeyEnv: string | null;
  isolates: number;
  timeouts: HttpTimeouts;
  slo?: Slo;
  arrival: "poisson" | "constant";
  durationMs?: number;
  maxConcurrency?: number;
  /** null: the kind's default (workers true, prompts false). */
  exactTokens: boolean | null;
  /** Workers: prompts from a dataset file instead of random token ids. */
  dataset?: { path: string; promptField?: string; outputField?: string; maxRecords?: number };
}

/** Everything a kind runner gets. */
export interface HttpKindContext {
  options: BenchOptions;
  http: HttpSettings;
  /** The tokenizer of --model, when given (token counts without usage, ctx-L prompts). */
  tokenizer?: TextTokenizer;
  log: (message: string) => void;
  stopped: () => boolean;
  signal: AbortSignal;
  checkpoint: (cases: Case[]) => Promise<void>;
  /**
   * Run one load and count output tokens with the tokenizer where the server sent no usage
   * (the results then say `tokenSource: "tokenizer"`).
   */
  load: (
    plan: Omit<HttpLoadPlan, "endpoints" | "model" | "apiKey" | "timeouts" | "isolates">,
  ) => Promise<HttpLoadRun>;
}

/** What a kind runner hands back. */
export interface HttpKindOutcome {
  cases: Case[];
  warnings: string[];
  interrupted: boolean;
}
