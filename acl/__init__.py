"""Access control: Kafka's ACL semantics on topics, groups, subjects and the cluster, users
with salted SCRAM credentials and API tokens, all kept in the `_acls` state log.

`acl.authorizer` is the pure decision core; `acl.service.AccessControl` keeps it current over
the log and implements `engine.auth.Authorizer`.
"""
