// Package intake is the CRM side of contract intake: deals refused as contracts (rejections), push
// notifications already received (replays across API instances), a contract's billing so far and the
// CRM reconciliation of closed-won deals against contracts.
package intake
