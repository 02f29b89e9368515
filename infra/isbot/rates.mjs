// isbot's own rates on the corpora shared/examples/bot_detection.rs measures, for a
// side-by-side figure in scripts/bench: `node infra/isbot/rates.mjs` (after `npm ci`).
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { isbot } from "isbot";

const here = dirname(fileURLToPath(import.meta.url));
const read = (path) => readFileSync(join(here, path), "utf8");
const crawlers = JSON.parse(read("node_modules/crawler-user-agents/crawler-user-agents.json"))
  .flatMap((entry) => entry.instances ?? []);
const browsers = [
  ...new Set(JSON.parse(read("node_modules/user-agents/dist/user-agents.json")).map((e) => e.userAgent)),
];
const own = read("../../shared/src/enrich/user_agent/sample.txt")
  .split("\n")
  .filter((line) => line.startsWith("human\t"))
  .map((line) => line.slice("human\t".length));
const count = (agents) => agents.filter((agent) => isbot(agent)).length;
const pct = (part, total) => ((part * 100) / total).toFixed(2);
const version = JSON.parse(read("node_modules/isbot/package.json")).version;
const caught = count(crawlers);
const flagged = count(browsers) + count(own);
const humans = browsers.length + own.length;
console.log(`isbot ${version} on the same corpora`);
console.log(`  crawlers flagged: ${caught}/${crawlers.length} = ${pct(caught, crawlers.length)} %`);
console.log(`  browsers flagged: ${flagged}/${humans} = ${pct(flagged, humans)} %`);
