"use client";
import { useEffect, useState } from "react";

/** Wall clock that ticks every `ms`, for "stale since" and ages. */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

/** When a push arrived. Called from subscription callbacks, never during render. */
export function receivedAt(): number {
  return Date.now();
}
