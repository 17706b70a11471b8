import { describe, expect, it } from "vitest";
import { safeNextPath } from "./csp";
import {
  clearSessionCookie,
  clientAddress,
  csrfRejection,
  isSecureRequest,
  markPeerHookInstalled,
  parseCookies,
  PEER_HEADER,
  sessionCookie,
} from "./http";

function post(
  headers: Record<string, string>,
  url = "http://console.test:3000/api/trpc/changes.apply",
): Request {
  return new Request(url, {
    method: "POST",
    headers: { host: "console.test:3000", ...headers },
    body: "{}",
  });
}

describe("CSRF rule", () => {
  it("accepts same-origin JSON POSTs and non-browser JSON clients", () => {
    expect(
      csrfRejection(
        post({ "content-type": "application/json", origin: "http://console.test:3000" }),
      ),
    ).toBeNull();
    expect(
      csrfRejection(
        post({
          "content-type": "application/json; charset=utf-8",
          "sec-fetch-site": "same-origin",
        }),
      ),
    ).toBeNull();
    expect(csrfRejection(post({ "content-type": "application/json" }))).toBeNull();
  });

  it("refuses forms, text and cross-origin requests", () => {
    expect(
      csrfRejection(
        post({
          "content-type": "application/x-www-form-urlencoded",
          origin: "http://evil.example",
        }),
      ),
    ).toMatch(/application\/json/);
    expect(
      csrfRejection(post({ "content-type": "text/plain", origin: "http://console.test:3000" })),
    ).not.toBeNull();
    expect(
      csrfRejection(post({ "content-type": "multipart/form-data; boundary=x" })),
    ).not.toBeNull();
    expect(
      csrfRejection(post({ "content-type": "application/json", origin: "http://evil.example" })),
    ).toMatch(/cross-origin/);
    expect(
      csrfRejection(post({ "content-type": "application/json", origin: "null" })),
    ).not.toBeNull();
    expect(
      csrfRejection(post({ "content-type": "application/json", "sec-fetch-site": "cross-site" })),
    ).toMatch(/cross-site/);
    expect(
      csrfRejection(post({ "content-type": "application/json", "sec-fetch-site": "same-site" })),
    ).not.toBeNull();
    const put = new Request("http://console.test:3000/api/trpc/x", { method: "PUT" });
    expect(csrfRejection(put)).toMatch(/POST/);
  });

  it("lets reads through", () => {
    expect(csrfRejection(new Request("http://console.test/api/trpc/inventory.list"))).toBeNull();
  });
});

describe("cookies", () => {
  it("is httpOnly, SameSite=Strict, and Secure only over TLS", () => {
    const plain = sessionCookie("tok", { secure: false, maxAgeSeconds: 60 });
    expect(plain).toBe("lvs_session=tok; Path=/; HttpOnly; SameSite=Strict; Max-Age=60");
    expect(sessionCookie("tok", { secure: true, maxAgeSeconds: 60 })).toMatch(/; Secure$/);
    expect(clearSessionCookie({ secure: false })).toContain("Max-Age=0");
  });

  it("detects TLS at the server or at a proxy", () => {
    expect(isSecureRequest(new Request("https://c.test/"))).toBe(true);
    expect(
      isSecureRequest(new Request("http://c.test/", { headers: { "x-forwarded-proto": "https" } })),
    ).toBe(true);
    expect(isSecureRequest(new Request("http://c.test/"))).toBe(false);
  });

  it("parses cookie headers", () => {
    expect(parseCookies("a=1; lvs_session=xyz; b=2").get("lvs_session")).toBe("xyz");
    expect(parseCookies(null).size).toBe(0);
  });
});

describe("client address", () => {
  it("uses the socket peer, and X-Forwarded-For only from a trusted proxy", () => {
    markPeerHookInstalled();
    const h = (peer: string, xff?: string) =>
      new Headers({ [PEER_HEADER]: peer, ...(xff ? { "x-forwarded-for": xff } : {}) });
    expect(clientAddress(h("::ffff:192.0.2.7", "10.9.9.9"))).toBe("192.0.2.7");
    expect(clientAddress(h("127.0.0.1", "6.6.6.6, 198.51.100.4"), ["127.0.0.1"])).toBe(
      "198.51.100.4",
    );
    expect(clientAddress(h("192.0.2.7", "127.0.0.1"), ["127.0.0.1"])).toBe("192.0.2.7");
  });
});

describe("return path after sign-in", () => {
  it("stays on this site", () => {
    expect(safeNextPath("/directors/lab?x=1")).toBe("/directors/lab?x=1");
    for (const bad of [
      "//evil.example",
      "/\\evil.example",
      "https://evil.example",
      "javascript:alert(1)",
      "",
      null,
      "/login",
    ]) {
      expect(safeNextPath(bad)).toBe("/");
    }
  });
});
