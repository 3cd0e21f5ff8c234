import { performance } from 'node:perf_hooks';
import { atRate, type LoadClients, machineCpuMs, sleep } from '../lib/sse-harness.js';
import type { ProfileSummary } from '../lib/sse-probe.js';
import {
  append,
  DRAIN_MS,
  IN_FLIGHT,
  type LatencyTally,
  PROFILE_MS,
  type Setup,
  type ThroughputTally,
  WINDOW_MS,
  WINDOW_WARM_MS,
} from './config.js';
import { postgresCpuByPid, postgresCpuSince, sampleBackends } from './postgres.js';
import { closedLoopUntil } from './setups.js';

export async function latencyWindow(setup: Setup, clients: LoadClients, tally: LatencyTally): Promise<void> {
  await atRate(tally.rate, WINDOW_WARM_MS, IN_FLIGHT, setup.send);
  await sleep(100);
  await clients.latencyStart();
  const result = await atRate(tally.rate, WINDOW_MS, IN_FLIGHT, setup.send);
  await sleep(300);
  append(tally.latencies, await clients.latencyStop());
  append(tally.roundTrips, result.roundTrips);
  tally.ok += result.ok;
  tally.errors += result.errors;
  tally.firstError ??= result.firstError;
  tally.elapsedMs += result.elapsedMs;
}

/** Waits until the clients have parsed `frames` job frames; answers how many are still missing. */
export async function drain(clients: LoadClients, frames: number): Promise<number> {
  const deadline = Date.now() + DRAIN_MS;
  let parsed = (await clients.counts()).jobs;
  while (parsed < frames && Date.now() < deadline) {
    await sleep(50);
    parsed = (await clients.counts()).jobs;
  }
  return frames - parsed;
}

export async function throughputWindow(
  setup: Setup,
  clients: LoadClients,
  tally: ThroughputTally,
): Promise<void> {
  const framesBefore = (await clients.counts()).jobs;
  let ok = 0;
  let measuring = false;
  const loop = closedLoopUntil(IN_FLIGHT, setup.send, (status, roundTripMs) => {
    if (status >= 200 && status < 300) {
      ok++;
      if (measuring) tally.roundTrips.push(roundTripMs);
    } else {
      tally.errors++;
      tally.firstError ??= status === 0 ? 'connection error' : `HTTP ${status}`;
    }
  });
  await sleep(WINDOW_WARM_MS);
  await clients.latencyStart();
  const start = {
    at: performance.now(),
    ok,
    frames: (await clients.counts()).jobs,
    servers: setup.instances.map((server) => server.cpuMs()),
    postgres: postgresCpuByPid(),
    clients: clients.cpuMs(),
    sender: process.cpuUsage(),
    machine: machineCpuMs().busy,
  };
  const sampler = setup.schema ? sampleBackends(setup.schema) : null;
  measuring = true;
  await sleep(WINDOW_MS);
  measuring = false;
  tally.frames += (await clients.counts()).jobs - start.frames;
  tally.ok += ok - start.ok;
  tally.measuredMs += performance.now() - start.at;
  for (const [i, server] of setup.instances.entries()) {
    tally.serverMs[i] = (tally.serverMs[i] ?? 0) + server.cpuMs() - (start.servers[i] ?? 0);
  }
  tally.postgresMs += postgresCpuSince(start.postgres);
  tally.clientMs += clients.cpuMs() - start.clients;
  const sender = process.cpuUsage(start.sender);
  tally.senderMs += (sender.user + sender.system) / 1000;
  tally.machineMs += machineCpuMs().busy - start.machine;
  if (sampler) {
    const { totals, samples } = await sampler.stop();
    for (const [what, count] of totals)
      tally.backendTotals.set(what, (tally.backendTotals.get(what) ?? 0) + count);
    tally.backendSamples += samples;
  }
  append(tally.latencies, await clients.latencyStop());
  await loop.stop();
  tally.missing += await drain(clients, framesBefore + ok);
}

/** CPU profiles of the set-up's instances over PROFILE_MS of the closed loop, outside the measured windows. */
export async function profileUnderLoad(setup: Setup, clients: LoadClients): Promise<ProfileSummary[]> {
  const framesBefore = (await clients.counts()).jobs;
  let ok = 0;
  const loop = closedLoopUntil(IN_FLIGHT, setup.send, (status) => {
    if (status >= 200 && status < 300) ok++;
  });
  await sleep(WINDOW_WARM_MS);
  await Promise.all(setup.instances.map((server) => server.profileStart()));
  await sleep(PROFILE_MS);
  const profiles: ProfileSummary[] = [];
  for (const server of setup.instances) profiles.push(await server.profileStop());
  await loop.stop();
  await drain(clients, framesBefore + ok);
  return profiles;
}
