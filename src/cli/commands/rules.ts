import { Command } from 'commander';
import { LeakwatchError } from '../../errors.js';
import { addExamples } from '../options.js';
import { printJson } from '../print.js';

/** A Prometheus duration as rules take it: `5m`, `30s`, `1h`, `0s`. */
function parseRuleDuration(text: string): string {
  if (!/^(\d+(ms|s|m|h|d|w|y))+$/.test(text)) throw new LeakwatchError(`--for needs a Prometheus duration (30s, 5m, 1h), got '${text}'`);
  return text;
}

export function rulesCommand(): Command {
  const command = new Command('rules')
    .description("print Prometheus recording and alerting rules on leakwatch's exported verdicts (for rule_files)")
    .option('--for <duration>', 'how long a verdict must hold before its alert fires', parseRuleDuration, '5m')
    .option('--json', 'print the rule file as JSON (Prometheus reads it too: YAML holds JSON)')
    .action(async (options: { for: string; json?: boolean }) => {
      const { alertRules, rulesYaml } = await import('../../report/prometheus.js');
      const rules = alertRules(options.for);
      if (options.json) printJson(rules);
      else process.stdout.write(rulesYaml(rules));
    });
  return addExamples(command, [
    'leakwatch rules > leakwatch-rules.yml && promtool check rules leakwatch-rules.yml',
    'leakwatch rules --for 15m --json > leakwatch-rules.json',
  ]);
}
