/**
 * The phone screens the tests lay the elements and the example out on (CSS px, width × height): phones held
 * upright, 320–414 px wide, and two on their side, under 480 px tall.
 */
export const PHONE_SCREENS: readonly (readonly [width: number, height: number])[] = [
  [320, 667],
  [360, 667],
  [375, 667],
  [414, 667],
  [667, 375],
  [844, 390],
];
