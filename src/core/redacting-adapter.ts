import type { Card, ThreadParent } from "./card.ts";
import type { ChatAdapter, CommandPort } from "./ports.ts";
import type { Redactor } from "./redaction.ts";

/**
 * A chat adapter whose every post and edit has its secrets masked first (see redaction.ts): cards,
 * thread parents, status messages, answers, digests and escalations. Everything else passes through.
 */
export function redactingAdapter<A extends ChatAdapter>(adapter: A, redactor: Redactor): A {
  const m = <T>(value: T): T => redactor.maskDeep(value);
  return {
    ...adapter,
    openThread: (parent, channel) => adapter.openThread(m(parent), channel),
    postCard: (thread, cards) => adapter.postCard(thread, () => m(cards())),
    updateCard: (ref, message) => adapter.updateCard(ref, m(message)),
    ...(adapter.openCardThread
      ? { openCardThread: (parent: ThreadParent, cards: () => Card[]) => adapter.openCardThread!(m(parent), () => m(cards())) }
      : {}),
    postProgress: (thread, view) => adapter.postProgress(thread, m(view)),
    updateProgress: (ref, view) => adapter.updateProgress(ref, m(view)),
    postAnswer: (thread, plan, kind) => adapter.postAnswer(thread, m(plan), kind),
    postDigest: (channel, digest) => adapter.postDigest(channel, m(digest)),
    ...(adapter.escalate ? { escalate: (thread: string, people: string[], words: { thread: string; direct: string }) => adapter.escalate!(thread, people, m(words)) } : {}),
  };
}

/** The command port with its replies masked: a session's title or prompt may carry a secret. */
export function redactingCommands(redactor: Redactor, commands: CommandPort): CommandPort {
  const m = <T>(value: T): T => redactor.maskDeep(value);
  return {
    failedNotice: commands.failedNotice,
    suggest: (input) => commands.suggest(input),
    run: async (invocation) => m(await commands.run(invocation)),
    stop: async (input) => m(await commands.stop(input)),
    message: async (message) => m(await commands.message(message)),
  };
}
