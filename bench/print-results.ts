// Playwright globalTeardown for bench.config.ts: prints every section of the results file as one table.
import { BENCH } from './config.ts';
import { describeResults } from './report.ts';

export default function printResults(): void {
  const text = describeResults(BENCH.resultsPath);
  process.stdout.write(text ? `\n${text}\n` : `\nNo benchmark results at ${BENCH.resultsPath}\n`);
}
