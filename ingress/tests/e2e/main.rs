//! End-to-end: config-api, executor and ingress running together against the real
//! PostgreSQL and RabbitMQ, driven the way a user drives them.

#[path = "../common/mod.rs"]
mod common;
#[path = "../common/refusals.rs"]
mod refusals;

mod changes;
mod flow_nodes;
mod flows;
mod hostile;
mod status;
