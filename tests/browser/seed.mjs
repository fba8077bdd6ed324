// Seeds a running cogov through its JSON API with what the browser specs look at: a school's
// steering committee with seats (one vacant), a past meeting with approved minutes and a roll
// call, and an upcoming meeting taking written comment on an item translated into Spanish.
//
//   node seed.mjs BASE_URL CLIENT_ID CLIENT_SECRET OUT.json
import { writeFileSync } from "node:fs";

const [base, clientId, clientSecret, out] = process.argv.slice(2);
if (!out) {
  console.error("usage: node seed.mjs BASE_URL CLIENT_ID CLIENT_SECRET OUT.json");
  process.exit(2);
}

const basic = Buffer.from(`${clientId}:${clientSecret}`).toString("base64");
const tokenRes = await fetch(`${base}/api/v1/auth/token`, {
  method: "POST",
  headers: { Authorization: `Basic ${basic}`, "Content-Type": "application/x-www-form-urlencoded" },
  body: "grant_type=client_credentials",
});
if (!tokenRes.ok) throw new Error(`token: ${tokenRes.status} ${await tokenRes.text()}`);
const { access_token: token } = await tokenRes.json();

async function call(method, path, body, ifMatch) {
  const headers = { Authorization: `Bearer ${token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (ifMatch) headers["If-Match"] = ifMatch;
  const res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : {};
}
const at = (hours) => new Date(Date.now() + hours * 3600e3).toISOString().replace(/\.\d+Z$/, "Z");
const tag = (v) => `"${v.version}"`;

const school = await call("POST", "/api/v1/schools", {
  name: "Roosevelt Community School", district_code: `R${Date.now()}`, time_zone: "America/Los_Angeles",
});
const council = await call("POST", "/api/v1/councils", {
  school_id: school.id, kind: "community_school_steering_committee", name: "Roosevelt Steering Committee",
  description: "Families, students, staff and partners steering the community school together.",
});
const seats = [];
const members = ["Ana Ruiz", "Ben Okafor", "Carla Nguyen", "David Kim"];
for (const [n, constituency] of ["families", "families", "teachers", "administrators"].entries()) {
  const seat = await call("POST", `/api/v1/councils/${council.id}/seats`, {
    constituency, title: `${constituency} seat ${n + 1}`,
  });
  const person = await call("POST", "/api/v1/people", { display_name: members[n] });
  await call("PUT", `/api/v1/seats/${seat.id}/holder`, { person_id: person.id }, tag(seat));
  seats.push(seat.id);
}
await call("POST", `/api/v1/councils/${council.id}/seats`, { constituency: "students", title: "Student seat" });

const meeting = (title, hours) => ({
  type: "regular", title, starts_at: at(hours), location: "Library", time_zone: "America/Los_Angeles",
});
const step = (id, action) => call("POST", `/api/v1/meetings/${id}/${action}`, {}, "*");
const hear = async (item) => {
  for (const s of ["open", "close"]) await call("POST", `/api/v1/agenda-items/${item}/comment/${s}`, {}, "*");
};
const attend = async (m) => {
  for (const seat of seats) await call("POST", `/api/v1/meetings/${m}/attendance`, { seat_id: seat, status: "present" });
};
const decide = async (m, item, choices) => {
  const motion = await call("POST", `/api/v1/meetings/${m}/motions`, {
    kind: "main", agenda_item_id: item, text: "Approve / Aprobar", mover_seat_id: seats[0], seconder_seat_id: seats[1],
  });
  for (const [i, choice] of choices.entries()) {
    await call("POST", `/api/v1/motions/${motion.id}/votes`, { seat_id: seats[i], choice });
  }
  await call("POST", `/api/v1/motions/${motion.id}/close`, {}, tag(motion));
};

const past = await call("POST", `/api/v1/councils/${council.id}/meetings`, meeting("March meeting", 240));
const reading = await call("POST", `/api/v1/meetings/${past.id}/agenda-items`, { kind: "action", title: "Reading plan" });
await step(past.id, "publish");
await step(past.id, "open");
await attend(past.id);
await hear(reading.id);
await decide(past.id, reading.id, ["yes", "no", "yes", "abstain"]);
await step(past.id, "adjourn");
const minutes = await call("POST", `/api/v1/meetings/${past.id}/minutes`, {});

const next = await call("POST", `/api/v1/councils/${council.id}/meetings`, {
  ...meeting("April meeting / Reunión de abril", 250), interpretation_languages: ["es"],
});
const item = await call("POST", `/api/v1/meetings/${next.id}/agenda-items`, {
  kind: "discussion", title: "After-school program", description: "Hours of the program next year.",
  documents: [{ url: "https://district.example/after-school.pdf", title: "Program budget", language: "en" }],
  translations: { es: { title: "Programa después de clases", summary: "Horario del programa el próximo año." } },
});
const approval = await call("POST", `/api/v1/meetings/${next.id}/agenda-items`, {
  kind: "action", title: "Approve the March minutes",
  translations: { es: { title: "Aprobar el acta de marzo" } },
});
await call("PATCH", `/api/v1/minutes/${minutes.id}`, {
  approval_item_id: approval.id, summary: "The council adopted the reading plan.",
}, tag(minutes));
await step(next.id, "publish");
await step(next.id, "open");
await attend(next.id);
await hear(approval.id);
await decide(next.id, approval.id, ["yes", "yes", "yes", "yes"]);

writeFileSync(out, JSON.stringify({ council: council.id, school: school.id, past: past.id, next: next.id, item: item.id }, null, 2));
console.log(`seeded council ${council.id}`);
