import { Command } from 'commander';
import { LeakwatchError } from '../../errors.js';
import { addExamples } from '../options.js';

/** A Prometheus duration as rules take it: `5m`, `30s`, `1h`, `0s`. */
function parseRuleDuration(text: string): string {
  if (!/^(\d+(ms|s|m|h|d|w|y))+$/.test(text)) throw new LeakwatchError(`--for needs a Prometheus duration (30s, 5m, 1h), got '${text}'`);
  return text;
}

export function rulesCommand(): Command {
  const command = new Command('rules')
    .description("print Prometheus recording and alerting rules on leakwatch's exported verdicts (for rule_files)")
    .option('--for <duration>', 'how long a verdict must hold before its alert fires', parseRuleDuration, '5m')
    .action(async (options: { for: string }) => {
      const { alertRules } = await import('../../report/prometheus.js');
      process.stdout.write(alertRules(options.for));
    });
  return addExamples(command, ['leakwatch rules > leakwatch-rules.yml && promtool check rules leakwatch-rules.yml']);
}
