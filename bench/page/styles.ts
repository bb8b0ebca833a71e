// Page styles as constructable stylesheets: the CSP allows no inline <style> (style-src 'self'), which is
// how Vite's dev server would inject imported CSS; adopted sheets behave the same in dev and in the build.
export function adoptStyles(css: string): void {
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(css);
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
}
