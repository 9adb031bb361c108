#!/usr/bin/env node
// Launcher for cognito-local 5.3.0 used by the Go package testenv/emu.
//
// Usage: node launcher.cjs --dir DIR [--port N] [--port-file FILE]
//
//   --dir        working directory; cognito-local keeps its state in DIR/.cognito
//   --port       TCP port on 127.0.0.1 (0 = pick a free one; default 0)
//   --port-file  once listening, the actual port is written (atomically) here
//   --exit-on-stdin-eof
//                exit when stdin reaches EOF (the Go side keeps a pipe open, so
//                the emulator dies with its parent even on SIGKILL)
//
// Before the server starts it
//   * writes DIR/.cognito/config.json so pools use plain usernames
//     (cognito-local defaults to UsernameAttributes ["email"]) and the server
//     binds 127.0.0.1 only;
//   * registers a ResendConfirmationCode target in cognito-local's Targets table
//     (5.3.0 answers it with HTTP 500 CognitoLocal#Unsupported otherwise), honouring
//     the app client's PreventUserExistenceErrors as Cognito does;
//   * replaces ListUsers with one that pages (Limit, PaginationToken) and unescapes a
//     filter's quoted value, as Cognito does (5.3.0 does neither);
//   * answers DescribeUserPool's EstimatedNumberOfUsers with the pool's user count
//     (5.3.0 answers 0);
//   * wraps AdminCreateUser so that MessageAction=RESEND resends an invitation (5.3.0
//     answers it with CognitoLocal#Unsupported).
//
// The process exits on SIGINT/SIGTERM (and on stdin EOF with --exit-on-stdin-eof).
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const crypto = require("node:crypto");
const { parseArgs, writePortFile, onStop } = require("../launcher-lib.cjs");

const args = parseArgs(process.argv.slice(2), { dir: process.cwd() }, {
  "--dir": (v, out) => {
    out.dir = v;
  },
});
const HOST = "127.0.0.1";

// cognito-local reads HOST/PORT when lib/server/config.js is first loaded, so set
// them before requiring anything from it.
process.env.HOST = HOST;
process.env.PORT = String(args.port);
delete process.env.COGNITO_LOCAL_DEVMODE;
// aws-sdk v2 (used by cognito-local for Lambda/KMS) prints an end-of-support note.
process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE = "1";

fs.mkdirSync(args.dir, { recursive: true });
process.chdir(args.dir);
fs.mkdirSync(".cognito", { recursive: true });
fs.writeFileSync(
  path.join(".cognito", "config.json"),
  `${JSON.stringify(
    {
      UserPoolDefaults: { UsernameAttributes: [] },
      ServerConfig: { hostname: HOST, port: args.port },
    },
    null,
    2,
  )}\n`,
);

const { Targets } = require("cognito-local/lib/targets/targets");
const errors = require("cognito-local/lib/errors");
const {
  selectAppropriateDeliveryMethod,
} = require("cognito-local/lib/services/messageDelivery/deliveryMethod");
const { createDefaultServer } = require("cognito-local/lib/server");
const pino = require("pino");
const pinoPretty = require("pino-pretty");

// ---------------------------------------------------------------------------
// ResendConfirmationCode, modelled on the real Cognito behaviour.
// ---------------------------------------------------------------------------

function secretHash(username, clientId, clientSecret) {
  return crypto
    .createHmac("sha256", clientSecret)
    .update(`${username}${clientId}`)
    .digest("base64");
}

function safeEqual(a, b) {
  const ab = Buffer.from(String(a));
  const bb = Buffer.from(String(b));
  return ab.length === bb.length && crypto.timingSafeEqual(ab, bb);
}

const USERNAME_PATTERN = /^[\p{L}\p{M}\p{S}\p{N}\p{P}]+$/u;

// Real Cognito masks destinations, e.g. "d***@e***" / "+*******0100".
function maskDestination(medium, destination) {
  if (!destination) return destination;
  if (medium === "SMS") {
    return `+${"*".repeat(Math.max(destination.length - 5, 0))}${destination.slice(-4)}`;
  }
  const at = destination.indexOf("@");
  if (at <= 0) return `${destination[0]}***`;
  return `${destination[0]}***@${destination[at + 1] ?? ""}***`;
}

const ResendConfirmationCode =
  ({ cognito, clock, messages, otp }) =>
  async (ctx, req) => {
    if (!req || typeof req.ClientId !== "string" || req.ClientId === "") {
      throw new errors.InvalidParameterError(
        "1 validation error detected: Value null at 'clientId' failed to satisfy constraint: Member must not be null",
      );
    }
    if (typeof req.Username !== "string" || req.Username === "") {
      throw new errors.InvalidParameterError(
        "1 validation error detected: Value null at 'username' failed to satisfy constraint: Member must not be null",
      );
    }
    // Real Cognito validates the input shape before anything else.
    if ([...req.Username].length > 128) {
      throw new errors.InvalidParameterError(
        `1 validation error detected: Value '${req.Username}' at 'username' failed to satisfy constraint: Member must have length less than or equal to 128`,
      );
    }
    if (!USERNAME_PATTERN.test(req.Username)) {
      throw new errors.InvalidParameterError(
        `1 validation error detected: Value '${req.Username}' at 'username' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}]+`,
      );
    }

    const appClient = await cognito.getAppClient(ctx, req.ClientId);
    if (!appClient) {
      throw new errors.ResourceNotFoundError(
        `User pool client ${req.ClientId} does not exist.`,
      );
    }
    // Throws ResourceNotFoundException if the pool has been deleted.
    const userPool = await cognito.getUserPoolForClientId(ctx, req.ClientId);

    if (appClient.ClientSecret) {
      if (!req.SecretHash) {
        throw new errors.NotAuthorizedError(
          `Client ${req.ClientId} is configured with secret but SECRET_HASH was not received`,
        );
      }
      const want = secretHash(req.Username, req.ClientId, appClient.ClientSecret);
      if (!safeEqual(req.SecretHash, want)) {
        throw new errors.NotAuthorizedError(
          `Unable to verify secret hash for client ${req.ClientId}`,
        );
      }
    }

    const user = await userPool.getUserByUsername(ctx, req.Username);
    // PreventUserExistenceErrors=ENABLED (the console's default for new app clients):
    // Cognito answers an unknown or disabled user with a simulated CodeDeliveryDetails
    // instead of an error ("ResendConfirmationCode: Amazon Cognito returns
    // CodeDeliveryDetails for a disabled user or a user that doesn't exist"). No code is
    // generated or delivered.
    if (appClient.PreventUserExistenceErrors === "ENABLED" && (!user || user.Enabled === false)) {
      ctx.logger.info({ username: req.Username }, "ResendConfirmationCode: simulated delivery (PreventUserExistenceErrors)");
      return {
        CodeDeliveryDetails: {
          AttributeName: "email",
          DeliveryMedium: "EMAIL",
          Destination: `${[...req.Username][0]}***@${[...req.Username][0]}***`,
        },
      };
    }
    if (!user) {
      throw new errors.UserNotFoundError("Username/client id combination not found.");
    }
    if (user.Enabled === false) {
      throw new errors.NotAuthorizedError("User is disabled.");
    }
    if (user.UserStatus === "CONFIRMED") {
      throw new errors.InvalidParameterError("User is already confirmed.");
    }

    const autoVerified = userPool.options.AutoVerifiedAttributes ?? [];
    const deliveryDetails = selectAppropriateDeliveryMethod(autoVerified, user);
    if (!deliveryDetails) {
      throw new errors.InvalidParameterError(
        autoVerified.length === 0
          ? "Cannot resend codes. Auto verification not turned on."
          : "Cannot resend codes. No verified email or phone number on the user.",
      );
    }

    const code = otp();
    await messages.deliver(
      ctx,
      "ResendCode",
      req.ClientId,
      userPool.options.Id,
      user,
      code,
      req.ClientMetadata,
      deliveryDetails,
    );
    await userPool.saveUser(ctx, {
      ...user,
      ConfirmationCode: code,
      UserLastModifiedDate: clock.get(),
    });

    return {
      CodeDeliveryDetails: {
        AttributeName: deliveryDetails.AttributeName,
        DeliveryMedium: deliveryDetails.DeliveryMedium,
        Destination: maskDestination(
          deliveryDetails.DeliveryMedium,
          deliveryDetails.Destination,
        ),
      },
    };
  };

Targets.ResendConfirmationCode = ResendConfirmationCode;

// ---------------------------------------------------------------------------
// ListUsers, modelled on the real Cognito behaviour. cognito-local 5.3.0 returns every
// matching user in one answer (no Limit, no PaginationToken) and takes a filter's quoted
// value literally, so `username = "a\"b"` never matches the user a"b. This one pages
// (Limit 1..60, default 60, an opaque PaginationToken), unescapes \" and \\ in the
// value, and answers `status` with "Enabled"/"Disabled" as Cognito does.
// ---------------------------------------------------------------------------

const { userToResponseObject } = require("cognito-local/lib/targets/responses");

const FILTER = /^\s*([\w:]+)\s*(\^?=)\s*"((?:[^"\\]|\\.)*)"\s*$/;

function attr(user, name) {
  return (user.Attributes ?? []).find((a) => a.Name === name)?.Value;
}

const FILTER_FIELDS = {
  username: (u) => u.Username,
  email: (u) => attr(u, "email"),
  phone_number: (u) => attr(u, "phone_number"),
  name: (u) => attr(u, "name"),
  given_name: (u) => attr(u, "given_name"),
  family_name: (u) => attr(u, "family_name"),
  preferred_username: (u) => attr(u, "preferred_username"),
  "cognito:user_status": (u) => (u.UserStatus ?? "").toLowerCase(),
  status: (u) => (u.Enabled === false ? "Disabled" : "Enabled"),
  sub: (u) => attr(u, "sub"),
};

function parseFilter(filter) {
  if (filter === undefined || filter === null || filter === "") return () => true;
  const m = FILTER.exec(filter);
  if (!m) throw new errors.InvalidParameterError("Error while parsing filter");
  const [, name, type, raw] = m;
  const field = FILTER_FIELDS[name];
  if (!field) throw new errors.InvalidParameterError(`Invalid search attribute: ${name}`);
  let value = raw.replace(/\\(.)/g, "$1");
  if (name === "cognito:user_status") value = value.toLowerCase();
  return (u) => {
    const v = field(u);
    if (v === undefined || v === null) return false;
    return type === "=" ? String(v) === value : String(v).startsWith(value);
  };
}

const ListUsers =
  ({ cognito }) =>
  async (ctx, req) => {
    const limit = req.Limit ?? 60;
    if (!Number.isInteger(limit) || limit < 0 || limit > 60) {
      throw new errors.InvalidParameterError(
        `1 validation error detected: Value '${limit}' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 60`,
      );
    }
    let offset = 0;
    if (req.PaginationToken !== undefined && req.PaginationToken !== null) {
      const decoded = Buffer.from(String(req.PaginationToken), "base64url").toString();
      if (!/^page:\d+$/.test(decoded)) {
        throw new errors.InvalidParameterError("Invalid pagination token");
      }
      offset = Number(decoded.slice(5));
    }
    const match = parseFilter(req.Filter);
    const userPool = await cognito.getUserPool(ctx, req.UserPoolId);
    const users = (await userPool.listUsers(ctx, undefined))
      .filter(match)
      .sort((a, b) => (a.Username < b.Username ? -1 : a.Username > b.Username ? 1 : 0));
    const page = users.slice(offset, offset + (limit || 60));
    const out = { Users: page.map(userToResponseObject) };
    if (offset + page.length < users.length) {
      out.PaginationToken = Buffer.from(`page:${offset + page.length}`).toString("base64url");
    }
    return out;
  };

Targets.ListUsers = ListUsers;

// DescribeUserPool: cognito-local 5.3.0 answers EstimatedNumberOfUsers 0 whatever the
// pool holds; Cognito gives an estimate of its users (every state). This one counts
// them, so a small CSV against a bigger pool takes the lookups path (no census) here as
// it would on AWS.
const DescribeUserPoolCounted = Targets.DescribeUserPool;
Targets.DescribeUserPool = (services) => {
  const describe = DescribeUserPoolCounted(services);
  return async (ctx, req) => {
    const out = await describe(ctx, req);
    const userPool = await services.cognito.getUserPool(ctx, req.UserPoolId);
    if (out.UserPool && userPool) {
      out.UserPool.EstimatedNumberOfUsers = (await userPool.listUsers(ctx, undefined)).length;
    }
    return out;
  };
};

// ---------------------------------------------------------------------------
// AdminCreateUser with MessageAction=RESEND (5.3.0 answers it with
// CognitoLocal#Unsupported): resend an admin-created user's invitation, as Cognito
// does. The user must exist (UserNotFoundException) and still be FORCE_CHANGE_PASSWORD
// (UnsupportedUserStateException otherwise); a new temporary password replaces the
// old one and goes out through cognito-local's message delivery ("AdminCreateUser",
// so the CustomMessage_AdminCreateUser trigger sees ClientMetadata), on
// DesiredDeliveryMediums or, unset, Cognito's documented default: SMS. Every other
// MessageAction is cognito-local's own AdminCreateUser.
// ---------------------------------------------------------------------------

const TEMP_PASSWORD_ALPHABET =
  "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!";

function temporaryPassword() {
  if (process.env.CODE) return process.env.CODE;
  let out = "";
  for (const b of crypto.randomBytes(8)) out += TEMP_PASSWORD_ALPHABET[b % TEMP_PASSWORD_ALPHABET.length];
  return out;
}

function invitationDelivery(mediums, user) {
  const attr = (name) => (user.Attributes ?? []).find((a) => a.Name === name)?.Value;
  if (mediums.includes("SMS") && attr("phone_number")) {
    return { AttributeName: "phone_number", DeliveryMedium: "SMS", Destination: attr("phone_number") };
  }
  if (mediums.includes("EMAIL") && attr("email")) {
    return { AttributeName: "email", DeliveryMedium: "EMAIL", Destination: attr("email") };
  }
  return null;
}

const cognitoLocalAdminCreateUser = Targets.AdminCreateUser;

const AdminCreateUser = (services) => {
  const create = cognitoLocalAdminCreateUser(services);
  const { cognito, clock, messages } = services;
  return async (ctx, req) => {
    if (!req || req.MessageAction !== "RESEND") return create(ctx, req);
    // Throws ResourceNotFoundException for an unknown pool.
    const userPool = await cognito.getUserPool(ctx, req.UserPoolId);
    const user = await userPool.getUserByUsername(ctx, req.Username);
    if (!user) {
      throw new errors.UserNotFoundError("User does not exist.");
    }
    if (user.UserStatus !== "FORCE_CHANGE_PASSWORD") {
      throw new UnsupportedUserStateError(`Resend not possible. ${user.Username} status is not FORCE_CHANGE_PASSWORD.`);
    }
    const deliveryDetails = invitationDelivery(req.DesiredDeliveryMediums ?? ["SMS"], user);
    if (!deliveryDetails) {
      throw new errors.InvalidParameterError("User has no attribute matching desired delivery mediums");
    }
    const password = temporaryPassword();
    const now = clock.get();
    const saved = { ...user, Password: password, UserLastModifiedDate: now };
    await userPool.saveUser(ctx, saved);
    await messages.deliver(
      ctx,
      "AdminCreateUser",
      null,
      userPool.options.Id,
      saved,
      password,
      req.ClientMetadata,
      deliveryDetails,
    );
    return { User: userToResponseObject(saved) };
  };
};

// UnsupportedUserStateException is not in cognito-local's errors; its CognitoError
// serialises any code.
class UnsupportedUserStateError extends errors.CognitoError {
  constructor(message) {
    super("UnsupportedUserStateException", message);
  }
}

Targets.AdminCreateUser = AdminCreateUser;

// ---------------------------------------------------------------------------
// Server start-up (mirrors cognito-local/lib/bin/start.js, without colours).
// ---------------------------------------------------------------------------

// Pretty-print synchronously (pino-pretty's stream mode is asynchronous), so a
// delivered code is in the log before the HTTP response is sent.
const pretty = pinoPretty.prettyFactory({
  colorize: false,
  translateTime: "SYS:HH:MM:ss.l",
  ignore: "pid,name,hostname",
  singleLine: true,
  messageFormat: (log, messageKey) =>
    `${log.reqId ?? "NONE"} ${log.target ?? "NONE"} ${log[messageKey]}`,
});
const logger = pino(
  { level: process.env.DEBUG ? "debug" : "info" },
  {
    write(line) {
      try {
        fs.writeSync(1, pretty(line));
      } catch {
        // stdout gone; nothing sensible to do
      }
    },
  },
);

let httpServer;

function shutdown(code) {
  if (!httpServer) process.exit(code);
  httpServer.close(() => process.exit(code));
  if (httpServer.closeAllConnections) httpServer.closeAllConnections();
  setTimeout(() => process.exit(code), 2000).unref();
}

onStop(args, shutdown);

createDefaultServer(logger)
  .then((server) => server.start())
  .then((server) => {
    httpServer = server;
    const address = server.address();
    if (!address || typeof address === "string") {
      throw new Error(`unexpected server address ${JSON.stringify(address)}`);
    }
    logger.info(`Cognito Local running on http://${address.address}:${address.port}`);
    writePortFile(args.portFile, address.port);
  })
  .catch((err) => {
    logger.error(err);
    process.exit(1);
  });
