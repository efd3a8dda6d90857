import type { DestinationStream, LoggerOptions } from 'pino';
import pino from 'pino';
import type { EnvConfig } from '../config/env';
import { REDACT_PATHS, redactUrl } from './redaction';

export function loggerOptions(env: Pick<EnvConfig, 'logLevel' | 'nodeEnv'>, pretty: boolean): LoggerOptions {
  return {
    level: env.logLevel,
    redact: { paths: REDACT_PATHS, censor: '[Redacted]' },
    serializers: {
      req: (req: { id: string; method: string; url: string; ip?: string }) => ({
        id: req.id,
        method: req.method,
        url: redactUrl(req.url),
        ip: req.ip
      }),
      err: pino.stdSerializers.err
    },
    ...(pretty
      ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } }
      : {})
  };
}

/** The root logger: pretty in development, JSON lines otherwise, or into `stream` (tests). */
export function createLogger(env: Pick<EnvConfig, 'logLevel' | 'nodeEnv'>, stream?: DestinationStream): pino.Logger {
  if (stream) return pino(loggerOptions(env, false), stream);
  return pino(loggerOptions(env, env.nodeEnv === 'development'));
}
