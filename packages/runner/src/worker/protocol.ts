/** The worker's JSON-lines messages (docs/ARCHITECTURE.md, "Worker protocol"). */
import { z } from 'zod';

export const ReadyEvent = z.object({
  event: z.literal('ready'),
  python: z.string(),
  torch: z.string().nullable(),
  triton: z.string().nullable(),
  cuda: z.string().nullable().optional(),
  gpu: z.string().nullable().optional(),
  device: z.string().optional(),
  pid: z.number().optional(),
  /** Modules that did not import ("torch", "triton"), and what to fix. */
  missing: z.array(z.string()).optional(),
  fixes: z.array(z.string()).optional(),
});
export type ReadyEvent = z.infer<typeof ReadyEvent>;

export const ProgressEvent = z.object({
  id: z.number().nullable(),
  event: z.literal('progress'),
  data: z.unknown(),
});

export const OkResponse = z.object({ id: z.number().nullable(), ok: z.literal(true), result: z.unknown() });
export const ErrResponse = z.object({
  id: z.number().nullable(),
  ok: z.literal(false),
  error: z.object({ type: z.string(), message: z.string(), traceback: z.string() }),
});

export const Message = z.union([ReadyEvent, ProgressEvent, OkResponse, ErrResponse]);
export type Message = z.infer<typeof Message>;

export interface Request {
  readonly id: number;
  readonly op: string;
  readonly args: Record<string, unknown>;
}

/** Parses one stdout line; undefined when it is not a protocol message. */
export function parseLine(line: string): Message | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return undefined;
  }
  const r = Message.safeParse(raw);
  return r.success ? r.data : undefined;
}
