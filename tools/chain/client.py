"""Connections to a chain and the account that signs: anvil by default, any EVM RPC by URL.

    w3, account = connect("https://rpc.example", chain_id=1234)   # key from $MAGNET_CHAIN_KEY
    w3, account = connect(local_url)                                # anvil: its first account

The private key is read from an environment variable (or an encrypted keystore file and a
password variable) and used only to sign: it is never printed, logged, traced or stored.
"""

from __future__ import annotations

import os
from pathlib import Path

from magnet.tools.errors import ChainError

KEY_ENV = "MAGNET_CHAIN_KEY"
KEYSTORE_PASSWORD_ENV = "MAGNET_KEYSTORE_PASSWORD"


def connect(rpc_url: str, chain_id: int | None = None, keystore: Path | None = None):
    """(web3, sending address). Without a key, the node's own first account (anvil's are
    unlocked); with one, transactions are signed locally."""
    from web3 import Web3
    from web3.middleware import SignAndSendRawMiddlewareBuilder

    w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": 10}))
    try:
        actual = w3.eth.chain_id
    except Exception as e:  # requests' and web3's errors: the RPC is not there
        raise ChainError(f"cannot reach the chain at {rpc_url} ({type(e).__name__})") from None
    if chain_id is not None and actual != chain_id:
        raise ChainError(f"{rpc_url} is chain {actual}, not {chain_id}")
    key = _private_key(keystore)
    if key is None:
        if not w3.eth.accounts:
            raise ChainError(f"no key: set {KEY_ENV} (or --keystore) to sign on {rpc_url}")
        return w3, w3.eth.accounts[0]
    account = w3.eth.account.from_key(key)
    w3.middleware_onion.inject(SignAndSendRawMiddlewareBuilder.build(account), layer=0)
    return w3, account.address


def _private_key(keystore: Path | None) -> str | None:
    from eth_account import Account

    if keystore is not None:
        password = os.environ.get(KEYSTORE_PASSWORD_ENV)
        if password is None:
            raise ChainError(f"set {KEYSTORE_PASSWORD_ENV} to open the keystore {keystore}")
        try:
            return Account.decrypt(keystore.read_text(), password).hex()
        except (OSError, ValueError):
            raise ChainError(f"cannot open the keystore {keystore} (file or password)") from None
    key = os.environ.get(KEY_ENV)
    if key is None:
        return None
    try:
        Account.from_key(key)
    except (ValueError, TypeError):
        raise ChainError(f"{KEY_ENV} does not hold a valid private key") from None
    return key
