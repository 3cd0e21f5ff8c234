let frame: Promise<void> | undefined;

/**
 * Resolves at the next animation frame, together with every other caller on the page, so a burst of job
 * updates renders all elements once in one frame. A hidden page draws no frames: a timer stands in there,
 * so the title count still follows in a background tab.
 */
export function nextFrame(): Promise<void> {
  frame ??= new Promise((resolve) => {
    const done = () => {
      cancelAnimationFrame(drawn);
      clearTimeout(timer);
      frame = undefined;
      resolve();
    };
    const timer = setTimeout(done, 250);
    const drawn = requestAnimationFrame(done);
  });
  return frame;
}
