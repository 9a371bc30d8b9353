/** Structured JSON logs (pino). One root logger per process; services take child loggers. */
import { pino, type Logger, type LevelWithSilent } from "pino";

export type { Logger };

export function createLogger(level: LevelWithSilent = "info", name = "veilnet"): Logger {
  return pino(
    {
      name,
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      serializers: { err: pino.stdSerializers.err },
    },
    // Synchronous writes: pino's default asynchronous stdout stream can reorder lines on a pipe, and
    // loses the last ones when the process is killed.
    pino.destination({ dest: 1, sync: true }),
  );
}

/** A logger that drops everything (tests, benches). */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
