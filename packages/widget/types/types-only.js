// The framework typings are types only; this empty module lets `import '@jobtracker/widget/react'` (or
// preact, solid, vue) load in a bundle too.
export {};
