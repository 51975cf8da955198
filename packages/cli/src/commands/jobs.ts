import type { CommandRecord } from '@flotilla/sdk';
import { HubConnection, hubClientOptions } from '../client-options.js';
import { helpText, type Command } from '../command.js';
import { styleFor, type Style } from '../format/style.js';
import { renderTable, truncate } from '../format/table.js';
import { relativeTime } from '../format/time.js';
import type { Io } from '../io.js';
import { flag, option, parseOptions } from '../options.js';
import * as v from '../values.js';

export const jobsOptions = {
  open: flag({ description: 'only jobs still running' }),
  limit: option((raw, source) => v.integer(raw, source, 1, 1000), {
    valueName: 'N',
    default: 50,
    description: 'how many of the latest jobs to show (1-1000)',
  }),
  json: flag({ description: 'print the job records as JSON' }),
  ...hubClientOptions,
};

const help = helpText({
  usage: 'flotilla jobs [options]',
  description:
    'Lists long-running commands (jobs: a calibration, homing a stepper) with their progress, newest first. Cancel one with flotilla cancel ID.',
  options: jobsOptions,
  notes: 'Examples:\n  flotilla jobs --open\n  flotilla jobs --json | jq ".[] | {id, progress}"',
});

function progressCell(job: CommandRecord, style: Style): string {
  if (job.progress === null) return style.dim('-');
  const text = `${Math.round(job.progress * 100)}%`;
  return job.progressMessage ? `${text} ${truncate(job.progressMessage, 40)}` : text;
}

function statusCell(job: CommandRecord, style: Style): string {
  if (job.status === 'succeeded') return style.green(job.status);
  if (job.status === 'issued' || job.status === 'delivered') return style.yellow('running');
  return style.red(job.status);
}

async function run(argv: readonly string[], io: Io): Promise<number> {
  const { values, help: wantsHelp } = parseOptions(jobsOptions, argv, io.env);
  if (wantsHelp) {
    io.stdout.write(help);
    return 0;
  }
  const jobs = await HubConnection.open(values, io).call((client) =>
    client.listJobs({ open: values.open, limit: values.limit }),
  );
  if (values.json) {
    io.stdout.write(`${JSON.stringify(jobs, null, 2)}\n`);
    return 0;
  }
  if (jobs.length === 0) {
    io.stdout.write(values.open ? 'No job is running.\n' : 'No jobs yet.\n');
    return 0;
  }
  const style = styleFor(io.stdout, io.env);
  const now = io.clock.now();
  io.stdout.write(
    renderTable(
      ['ID', 'DEVICE', 'JOB', 'STATUS', 'PROGRESS', 'STARTED'],
      jobs.map((job) => [
        job.id,
        job.device,
        `${job.capability}.${job.command}`,
        statusCell(job, style),
        progressCell(job, style),
        relativeTime(job.issuedAt, now),
      ]),
      style,
    ),
  );
  return 0;
}

export const jobsCommand: Command = { name: 'jobs', summary: 'List long-running commands and their progress', run };
