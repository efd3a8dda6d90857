/** The slice of a pino/Fastify logger the drivers use. */
export interface SandboxLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}
