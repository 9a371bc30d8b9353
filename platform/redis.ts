/**
 * Redis connections for BullMQ and worker state. Connections reconnect forever with capped exponential
 * backoff (so a Redis restart loses nothing: commands wait and BullMQ resumes); `connectRedis` checks
 * at start that Redis answers and fails with a clear message when it does not.
 */
import { Redis, type RedisOptions } from "ioredis";

import type { Logger } from "./logger.js";

export class RedisUnavailableError extends Error {
  constructor(url: string, cause: unknown) {
    super(`Redis is unreachable at ${redactUrl(url)}: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = "RedisUnavailableError";
  }
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== "") u.password = "***";
    return u.toString();
  } catch {
    return url;
  }
}

/** Options BullMQ requires of its connections (null retries: blocking commands wait for reconnects). */
export function redisOptions(logger?: Logger): RedisOptions {
  return {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (times) => {
      const delay = Math.min(100 * 2 ** Math.min(times, 10), 5000);
      if (times === 1 || times % 10 === 0) logger?.warn({ attempt: times, delayMs: delay }, "redis: reconnecting");
      return delay;
    },
  };
}

/** A new connection to `url` (does not wait for it). */
export function createRedis(url: string, logger?: Logger): Redis {
  return new Redis(url, redisOptions(logger));
}

/**
 * Connects to `url` and checks that Redis answers PING within `timeoutMs`; throws RedisUnavailableError
 * otherwise (and closes the connection).
 */
export async function connectRedis(url: string, logger?: Logger, timeoutMs = 5000): Promise<Redis> {
  const redis = new Redis(url, { ...redisOptions(logger), lazyConnect: true });
  redis.on("error", () => {}); // reported through retryStrategy and the startup check
  try {
    await withTimeout(
      (async () => {
        await redis.connect();
        await redis.ping();
      })(),
      timeoutMs,
      `no answer within ${timeoutMs} ms`,
    );
    return redis;
  } catch (e) {
    redis.disconnect();
    throw new RedisUnavailableError(url, e);
  }
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(message)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
