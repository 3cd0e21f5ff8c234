import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';

/**
 * Answers a request straight from node's request and response, before Hono: true when it did, false
 * (or a promise of false) when it did not and the app must. It writes nothing unless it answers.
 */
export type NodeAnswer = (request: IncomingMessage, response: ServerResponse) => boolean | Promise<boolean>;

/** node's request listener: `answer` first, then `listener` (the app, through its adapter) for the rest. */
export function withNodeAnswer(answer: NodeAnswer, listener: RequestListener): RequestListener {
  return (request, response) => {
    let answered: boolean | Promise<boolean>;
    try {
      answered = answer(request, response);
    } catch (error) {
      answered = Promise.reject(error);
    }
    if (answered === true) return;
    if (answered === false) {
      listener(request, response);
      return;
    }
    answered.then(
      (done) => done || listener(request, response),
      // The app answers what an answer failed on (and meets the same error), unless it began writing.
      () => (response.headersSent ? response.destroy() : listener(request, response)),
    );
  };
}

/**
 * The first of `answers` that does not decline at once (false) decides: each answers requests the others
 * do not (another method or path), so the order only saves time.
 */
export function firstAnswer(...answers: NodeAnswer[]): NodeAnswer {
  return (request, response) => {
    for (const answer of answers) {
      const answered = answer(request, response);
      if (answered !== false) return answered;
    }
    return false;
  };
}
