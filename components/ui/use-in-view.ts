"use client";
import { useEffect, useState, type RefObject } from "react";

/**
 * Whether an element is on screen (or within a screen's height of it). The fleet page has a
 * card per pair and a row per director, 500 in a big fleet, each row with two charts and a
 * history query: rows of cards out of view skip both, so a push costs what the visible
 * rows cost.
 *
 * One IntersectionObserver serves every caller (hundreds of cards, one observer).
 */
let shared: IntersectionObserver | null = null;
const listeners = new Map<Element, (visible: boolean) => void>();

function observer(): IntersectionObserver {
  shared ??= new IntersectionObserver(
    (entries) => {
      for (const e of entries) listeners.get(e.target)?.(e.isIntersecting);
    },
    { rootMargin: "100% 0px" },
  );
  return shared;
}

export function useInView(ref: RefObject<Element | null>): boolean {
  // Without the API (old browsers, some test DOMs) everything counts as visible.
  const [visible, setVisible] = useState(() => typeof IntersectionObserver === "undefined");
  useEffect(() => {
    const el = ref.current;
    if (!el || typeof IntersectionObserver === "undefined") return;
    listeners.set(el, setVisible);
    observer().observe(el);
    return () => {
      listeners.delete(el);
      shared?.unobserve(el);
    };
  }, [ref]);
  return visible;
}
