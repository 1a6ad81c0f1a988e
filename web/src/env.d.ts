/** Vite bundles CSS imported by a module (main.ts imports the page's styles). */
declare module '*.css'
