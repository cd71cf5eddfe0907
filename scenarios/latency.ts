/**
 * Serving latency of real text prompts, one request at a time: each text is tokenized with the
 * model's tokenizer (synthetic Qwen presets: the bundled Qwen tokenizer), wrapped in the chat
 * template when the tokenizer has one, generated with streamed detokenization, and timed part by
 * part (tokenize, prefill, decode forward, sampling, detokenize). The ctx-L cases cut L tokens
 * from the document for the TTFT/TPOT scaling fit. See docs/serving.md.
 * Run: deno task bench scenarios/latency.ts
 *      deno task bench scenarios/latency.ts --backend cuda
 */
import { defineScenario } from "../lib/scenario/mod.ts";

/** About 500 tokens of plain English (Qwen tokenizer: about 510, 518 in the chat template). */
export const DOCUMENT = [
  "The lighthouse on Carrow Point was built in 1868 from granite quarried three miles inland and",
  "carried to the headland on carts pulled by oxen. For the first forty years its lamp burned",
  "whale oil, then paraffin, and the keepers who tended it lived in two small cottages at the foot",
  "of the tower with their families. Each evening the senior keeper climbed the hundred and twelve",
  "steps, trimmed the wicks, polished the great glass lens and wound the clockwork that turned it.",
  "The lens itself, made in Paris, weighed nearly four tons and floated on a bath of mercury so",
  "that a single man could set it turning with one hand. Its beam reached twenty-two nautical miles",
  "on a clear night, and sailors learned to recognise the light by its pattern: two quick flashes",
  "followed by a long dark pause, repeated every fifteen seconds.\n\n",
  "Life at the station followed the weather. In winter storms the keepers took turns to sit up",
  "through the night, watching the flame and listening for the foghorn's compressor. In summer",
  "they painted the railings, repaired the slate roofs and grew potatoes in a walled garden.\n\n",
  "In 1921 the station was converted to acetylene gas, which could burn for months without",
  "attention, and the number of keepers fell from three to two. Electricity arrived in 1954 along",
  "a cable laid across the moor, bringing with it a radio telephone, a refrigerator and, for the",
  "first time, hot water from a tap. The final change came in 1989, when an automatic system of",
  "sensors and timers replaced the last keeper, who handed over the keys after twenty-six years",
  "of service and moved to a bungalow within sight of the tower.\n\n",
  "Today the cottages are a small museum. Visitors can climb the stairs, stand beside the old lens",
  "and read the logbooks in which generations of keepers recorded wind direction, visibility,",
  "ships sighted and the hours the lamp was lit. The entries are brief and practical, yet between",
  "the columns of numbers there are glimpses of a way of life that has almost vanished: a note",
  "about a seal pup on the rocks, a complaint about damp matches, a line recording the birth of a",
  "daughter during a gale in March. Read together, they tell the story of a building that kept",
  "its promise to every ship that passed, and of the people who kept it lit. Summarise this",
  "history in three sentences, then list the changes to the light in order of date.",
].join(" ");

export default defineScenario({
  kind: "prompts",
  name: "latency",
  description: "Per-prompt TTFT, TPOT and E2E of real text prompts with streamed " +
    "detokenization, context-length scaling and the timing breakdown",
  prompts: [
    { id: "hello", text: "Hello" },
    { id: "how-are-you", text: "How are you?" },
    { id: "robot-story", text: "Tell me a story about a robot" },
    {
      id: "explain-cache",
      text: "Explain, step by step, how a CPU cache decides which line to evict when it is full, " +
        "and why a program that walks an array row by row can run much faster than one that " +
        "walks the same array column by column.",
    },
    {
      id: "email",
      text: "Write a short, friendly email to a colleague asking whether we can move our " +
        "Thursday meeting to Friday afternoon, mention that the quarterly figures are not ready " +
        "yet, and offer two possible times.",
    },
    { id: "document", text: DOCUMENT },
  ],
  decodeTokens: 32,
  chatTemplate: true,
  // Prompts of these lengths (tokens of the document, repeated) for the TTFT/TPOT fit.
  contextLengths: [32, 128, 256, 512, 1024, 2048],
  // CPU prefill runs at a few hundred tokens/s on 2 cores: stop at 512 (about 3 minutes in all).
  contextLengthsCpu: [32, 128, 256, 512],
  warmup: 1,
  runs: 3,
});
