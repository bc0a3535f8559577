"""The cost of TLS on the Kafka listener.

Records/s produced by confluent-kafka through the listener over SSL with a client
certificate (the principal from its subject, authorization on with a prefixed ACL allowing
it), beside a plaintext listener on the same cluster with authorization off (the anchor), in
rounds whose order alternates, in the same run; the ratio of the medians is printed.

Run: python benchmarks/tls.py [--records 200000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.acl import median_produce_rates


def bench(records: int, rounds: int) -> None:
    from acl.model import Acl, Operation, PatternType, Permission, ResourceType
    from acl.principal import CertificatePrincipals
    from acl.service import AccessControl
    from engine.embedded import EmbeddedCluster
    from engine.kafka_listener import KafkaListener
    from httpapi.tls import TlsSettings, server_context
    from tests.tlscerts import make_pki

    with tempfile.TemporaryDirectory() as tmp:
        pki = make_pki(Path(tmp))
        cluster = EmbeddedCluster(Path(tmp) / "data", maintenance_interval_s=None)
        access = AccessControl(cluster).start()
        access.add(
            [
                Acl(ResourceType.TOPIC, "bench-", PatternType.PREFIXED, "User:CN=alice,O=Acme",
                    "*", Operation.ALL, Permission.ALLOW)
            ]
        )  # fmt: skip
        tls = TlsSettings(pki.server.cert, pki.server.key, pki.ca, "required")
        plain = KafkaListener(cluster, "127.0.0.1", 0).start()
        secured = KafkaListener(
            cluster,
            "127.0.0.1",
            0,
            authorizer=access,
            ssl_context=server_context(tls),
            certificate_principal=CertificatePrincipals().principal,
        ).start()
        ssl_conf = {
            "security.protocol": "SSL",
            "ssl.ca.location": str(pki.ca),
            "ssl.certificate.location": str(pki.alice.cert),
            "ssl.key.location": str(pki.alice.key),
        }
        try:
            off, on = median_produce_rates(
                [("bench-plain", plain.bootstrap, {}), ("bench-ssl", secured.bootstrap, ssl_conf)],
                rounds,
                records,
            )
            print(f"listener produce, {records:,} records of 100 bytes, {rounds} rounds")
            print(f"  PLAINTEXT, no authorization (anchor): {off:,.0f} rec/s")
            print(f"  SSL with a client certificate, ACLs on: {on:,.0f} rec/s")
            print(f"  ratio SSL / PLAINTEXT: {on / off:.2f}x")
        finally:
            secured.stop()
            plain.stop()
            access.close()
            cluster.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    bench(args.records, args.rounds)


if __name__ == "__main__":
    main()
