/**
 * The page's only way to make DOM: elements from a tag, a few attributes and children, where a
 * string child always becomes a text node. Nothing here parses HTML, so a stored `<script>` or
 * `<img onerror>` shows as the characters it is (and the Content-Security-Policy's Trusted Types
 * would refuse an HTML string anyway). Links are built by the page from its own routes only.
 */

/** A child: a node, or text (never HTML). Null and false are skipped. */
export type Child = Node | string | null | undefined | false

/** Attributes the page sets; event handlers are attached with addEventListener, never as text. */
export interface Attrs {
  class?: string
  /** A route of this page (`#/…`); anything else is refused. */
  href?: string
  title?: string
  id?: string
  role?: string
  type?: string
  name?: string
  value?: string
  placeholder?: string
  for?: string
  datetime?: string
  tabindex?: string
  hidden?: boolean
  disabled?: boolean
  [aria: `aria-${string}`]: string | undefined
  [data: `data-${string}`]: string | undefined
}

/** Creates `<tag>` with attributes and children (strings as text). */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue
    if (name === 'href' && typeof value === 'string' && !value.startsWith('#/'))
      throw new Error('links go to routes of this page only')
    node.setAttribute(name, value === true ? '' : String(value))
  }
  append(node, ...children)
  return node
}

/** Appends children (strings as text nodes). */
export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue
    parent.appendChild(typeof child === 'string' ? document.createTextNode(child) : child)
  }
}

/** Replaces every child of `parent`. */
export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren()
  append(parent, ...children)
}

/** The element with this id (the page's static frame); throws when the page lacks it. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const node = document.getElementById(id)
  if (!node) throw new Error(`#${id} is missing`)
  return node as T
}
