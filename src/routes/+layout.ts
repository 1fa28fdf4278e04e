// A static site: every page is prerendered and the app runs entirely in the browser.
export const prerender = true;
export const ssr = true;
export const trailingSlash = 'always';
