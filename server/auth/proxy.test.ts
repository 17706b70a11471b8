import { NextRequest } from "next/server";
import { describe, expect, it } from "vitest";
import { proxy } from "@/proxy";

const request = (path: string) => new NextRequest(new URL(path, "http://127.0.0.1:3000"));

describe("proxy.ts and the machine endpoints", () => {
  it.each(["/metrics", "/healthz", "/readyz"])(
    "lets %s through without a session and without a redirect",
    (path) => {
      const res = proxy(request(path));
      expect(res.headers.get("x-middleware-next")).toBe("1");
      expect(res.headers.get("location")).toBeNull();
    },
  );

  it("still sends a page without a session to the sign-in page", () => {
    const res = proxy(request("/metrics/other"));
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toContain("/login");
  });
});
