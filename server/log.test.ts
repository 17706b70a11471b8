import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { Secret } from "@/server/config/users-schema";
import { createLogger } from "./log";

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      done();
    },
  });
  return { log: createLogger({ json: true, destination }), lines };
}

const PASSWORD = "correct-horse-battery-staple";

describe("the logger", () => {
  it("writes one JSON object per line with level, ISO time, event and the context fields", () => {
    const { log, lines } = capture();
    log
      .child({ director: "lvs1", cluster: "web" })
      .info({ event: "ssh.reconnect", user: "alice", requestId: "r-1" }, "reconnected");
    expect(lines).toHaveLength(1);
    const record = JSON.parse(lines[0] ?? "") as Record<string, unknown>;
    expect(record).toMatchObject({
      level: "info",
      director: "lvs1",
      cluster: "web",
      user: "alice",
      requestId: "r-1",
      event: "ssh.reconnect",
      msg: "reconnected",
    });
    expect(String(record.time)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it.each([
    ["a password at the top", { password: PASSWORD }],
    ["a password one level down", { input: { name: "alice", password: PASSWORD } }],
    ["a bearer token in headers", { req: { headers: { authorization: `Bearer ${PASSWORD}` } } }],
    ["a session cookie", { req: { headers: { cookie: `lvs_session=${PASSWORD}` } } }],
    ["a Set-Cookie", { res: { headers: { "set-cookie": `lvs_session=${PASSWORD}` } } }],
    ["a passphrase", { director: { passphrase: PASSWORD } }],
    ["a metrics token", { metrics: { token: PASSWORD } }],
    [
      "a Secret anywhere",
      { config: { users: [{ name: "a", passwordHash: new Secret(PASSWORD) }] } },
    ],
  ])("never writes %s", (_, fields) => {
    const { log, lines } = capture();
    log.info({ event: "test", ...fields }, "something happened");
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain(PASSWORD);
    expect(lines[0]).toContain('"event":"test"');
  });
});
