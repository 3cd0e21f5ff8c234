/**
 * `make`, run at most once per object: later calls with the same object answer the first result. The
 * objects it is used on are never changed once made (a job record's version, a published event, a frozen
 * parsed query), so the result stays true; held weakly, it goes when the object does.
 */
export function oncePerObject<K extends object, V>(make: (key: K) => V): (key: K) => V {
  const made = new WeakMap<K, V>();
  return (key) => {
    if (made.has(key)) return made.get(key) as V;
    const value = make(key);
    made.set(key, value);
    return value;
  };
}
