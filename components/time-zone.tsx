"use client";
/**
 * The operator's choice of time zone for every time on screen: the browser's own (the
 * default) or UTC, kept in localStorage like the theme. Components that show times call
 * useTimeZone() and pass the choice to formatDateTime/formatClock (components/format.ts).
 */
import { useSyncExternalStore } from "react";
import { Button } from "@/components/ui/button";
import type { TimeZoneChoice } from "@/components/format";

const KEY = "lvs-console-time-zone";
const listeners = new Set<() => void>();
let choice: TimeZoneChoice | null = null;

function subscribe(cb: () => void): () => void {
  listeners.add(cb);
  return () => listeners.delete(cb);
}

function current(): TimeZoneChoice {
  if (choice === null) {
    try {
      choice = localStorage.getItem(KEY) === "utc" ? "utc" : "local";
    } catch {
      choice = "local";
    }
  }
  return choice;
}

export function useTimeZone(): TimeZoneChoice {
  return useSyncExternalStore(subscribe, current, () => "local");
}

export function TimeZoneToggle() {
  const zone = useTimeZone();
  const next: TimeZoneChoice = zone === "utc" ? "local" : "utc";
  return (
    <Button
      variant="ghost"
      size="sm"
      aria-label={next === "utc" ? "Show times in UTC" : "Show times in the local zone"}
      title={zone === "utc" ? "Times are in UTC" : "Times are in your browser's zone"}
      onClick={() => {
        choice = next;
        try {
          localStorage.setItem(KEY, next);
        } catch {
          // private mode: the choice lasts for this page only
        }
        listeners.forEach((l) => l());
      }}
    >
      {zone === "utc" ? "UTC" : "Local time"}
    </Button>
  );
}
