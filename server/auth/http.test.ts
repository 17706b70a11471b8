import { describe, expect, it } from "vitest";
import { safeNextPath } from "./csp";
import {
  clearSessionCookie,
  clientAddress,
  csrfRejection,
  isSecureRequest,
  loginBatchRejection,
  markPeerHookInstalled,
  parseCookies,
  PEER_HEADER,
  PEER_TLS_HEADER,
  sessionCookie,
  sessionTokenOf,
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
  it("is httpOnly, SameSite=Strict, and over TLS Secure with the __Host- prefix", () => {
    const plain = sessionCookie("tok", { secure: false, maxAgeSeconds: 60 });
    expect(plain).toBe("lvs_session=tok; Path=/; HttpOnly; SameSite=Strict; Max-Age=60");
    expect(sessionCookie("tok", { secure: true, maxAgeSeconds: 60 })).toBe(
      "__Host-lvs_session=tok; Path=/; HttpOnly; SameSite=Strict; Max-Age=60; Secure",
    );
    expect(clearSessionCookie({ secure: false })).toContain("Max-Age=0");
    expect(clearSessionCookie({ secure: true })).toMatch(
      /^__Host-lvs_session=;.*Max-Age=0; Secure$/,
    );
  });

  it("reads only the cookie of the request's transport", () => {
    const both = new Headers({ cookie: "lvs_session=planted; __Host-lvs_session=real" });
    expect(sessionTokenOf(both, true)).toBe("real");
    expect(sessionTokenOf(both, false)).toBe("planted");
    expect(sessionTokenOf(new Headers({ cookie: "lvs_session=planted" }), true)).toBeNull();
  });

  it("detects TLS at the socket, or at a trusted proxy only", () => {
    markPeerHookInstalled();
    const h = (peer: string, extra: Record<string, string> = {}) =>
      new Headers({ [PEER_HEADER]: peer, [PEER_TLS_HEADER]: "0", ...extra });
    expect(isSecureRequest(h("192.0.2.7", { [PEER_TLS_HEADER]: "1" }), [])).toBe(true);
    expect(isSecureRequest(h("127.0.0.1", { "x-forwarded-proto": "https" }), ["127.0.0.1"])).toBe(
      true,
    );
    // A client speaking plain HTTP says it is TLS: not believed.
    expect(isSecureRequest(h("192.0.2.7", { "x-forwarded-proto": "https" }), ["127.0.0.1"])).toBe(
      false,
    );
    expect(isSecureRequest(h("192.0.2.7", { "x-forwarded-proto": "https" }), [])).toBe(false);
    // The proxy appended its own view last; what the client sent before it does not count.
    expect(
      isSecureRequest(h("127.0.0.1", { "x-forwarded-proto": "https, http" }), ["127.0.0.1"]),
    ).toBe(false);
    expect(isSecureRequest(h("127.0.0.1"), ["127.0.0.1"])).toBe(false);
  });

  it("parses cookie headers", () => {
    expect(parseCookies("a=1; lvs_session=xyz; b=2").get("lvs_session")).toBe("xyz");
    expect(parseCookies(null).size).toBe(0);
  });
});

describe("client address", () => {
  markPeerHookInstalled();
  const h = (peer: string, xff?: string) =>
    new Headers({ [PEER_HEADER]: peer, ...(xff ? { "x-forwarded-for": xff } : {}) });

  it("uses the socket peer, and X-Forwarded-For only from a trusted proxy", () => {
    expect(clientAddress(h("::ffff:192.0.2.7", "10.9.9.9"))).toBe("192.0.2.7");
    expect(clientAddress(h("127.0.0.1", "6.6.6.6, 198.51.100.4"), ["127.0.0.1"])).toBe(
      "198.51.100.4",
    );
    expect(clientAddress(h("192.0.2.7", "127.0.0.1"), ["127.0.0.1"])).toBe("192.0.2.7");
    expect(clientAddress(h("127.0.0.1"), ["127.0.0.1"])).toBe("127.0.0.1");
  });

  it("takes the rightmost address that is not a trusted proxy", () => {
    const proxies = ["127.0.0.1", "10.0.0.2"];
    // client 198.51.100.4 -> proxy 10.0.0.2 -> proxy 127.0.0.1 -> console; 6.6.6.6 is forged.
    expect(clientAddress(h("127.0.0.1", "6.6.6.6, 198.51.100.4, 10.0.0.2"), proxies)).toBe(
      "198.51.100.4",
    );
    expect(clientAddress(h("127.0.0.1", "::ffff:198.51.100.4,10.0.0.2"), proxies)).toBe(
      "198.51.100.4",
    );
    // Only proxies in the chain: the one farthest from us.
    expect(clientAddress(h("127.0.0.1", "10.0.0.2"), proxies)).toBe("10.0.0.2");
  });
});

describe("batched sign-in", () => {
  const url = (path: string, batch = true) =>
    `http://c.test/api/trpc/${path}${batch ? "?batch=1&input=%7B%7D" : ""}`;

  it("refuses auth.login batched with anything, itself included", () => {
    expect(loginBatchRejection(url("auth.login,auth.login"), "/api/trpc")).toMatch(/alone/);
    expect(loginBatchRejection(url("health,auth.login"), "/api/trpc")).toMatch(/alone/);
    expect(loginBatchRejection(url("auth.login%2Cauth.login"), "/api/trpc")).toMatch(/alone/);
  });

  it("lets a lone sign-in and other batches through", () => {
    expect(loginBatchRejection(url("auth.login"), "/api/trpc")).toBeNull();
    expect(loginBatchRejection(url("auth.login", false), "/api/trpc")).toBeNull();
    expect(loginBatchRejection(url("inventory.list,health"), "/api/trpc")).toBeNull();
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
