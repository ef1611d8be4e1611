"""What the tablet says, in Simplified Chinese (the default) and English.

Every text a screen shows comes from ``STRINGS`` by key; every error is shown by its stable
code (``inventory.negative_stock``, ``edge.offline_wrong_password``, ``gs1.bad_check_digit``)
through ``ERRORS``, so a rejection reads the same on every tablet and HQ can still filter by
code. A code without a translation shows the server's English message after a generic line.

Invariants (tested): both languages have exactly the same keys, and each translation of a key
uses exactly the same ``{placeholders}``. Switching language tells the one listener the app
registered; screens then re-read their texts.
"""

from __future__ import annotations

import string
from typing import Any, Callable

DEFAULT_LANGUAGE = "zh_CN"
LANGUAGES = ("zh_CN", "en")
LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}

STRINGS: dict[str, dict[str, str]] = {
    "zh_CN": {
        "app.title": "江城 ERP 平板",
        "common.back": "返回",
        "common.save": "保存",
        "common.clear": "清空",
        "common.saved": "已保存，第 {seq} 号操作，等待同步",
        "common.switch_language": "English",
        "common.busy": "请稍候…",
        "field.item": "物料（扫码或输入）",
        "field.location": "库位",
        "field.from": "从库位",
        "field.to": "到库位",
        "field.quantity": "数量",
        "field.counted": "盘点数量",
        "field.lot": "批号",
        "field.expiry": "有效期 (YYYY-MM-DD)",
        "field.reference": "单号 / 备注",
        "field.username": "用户名",
        "field.password": "密码",
        "field.search": "编码、条码、名称或拼音首字母",
        "sign_in.title": "登录",
        "sign_in.button": "登录",
        "sign_in.online": "已登录：{name}（总部验证）",
        "sign_in.offline": "已离线登录：{name}（本机验证，有效期至 {until}）",
        "sign_in.device": "设备 {device} · 站点 {site}",
        "home.title": "你好，{name}",
        "home.roles": "角色：{roles}",
        "home.sign_out": "退出登录",
        "home.nothing": "你的角色在本平板上没有可用的功能，请联系主管。",
        "home.summary": "{state} · 待同步 {pending} · 待处理 {inbox}",
        "screen.receipt": "收货",
        "screen.transfer": "移库",
        "screen.count": "盘点",
        "screen.lookup": "查询物料库存",
        "screen.sync": "同步状态",
        "screen.inbox": "问题收件箱",
        "receipt.gs1": "已识别 GS1 标签：批号 {lot}，有效期 {expiry}",
        "receipt.no_lot_field": "批号和有效期记入单号备注（系统暂无批次字段）",
        "count.system": "系统库存：{quantity}",
        "lookup.results": "找到 {count} 个物料",
        "lookup.none": "没有找到",
        "lookup.indexing": "正在建立拼音索引…",
        "lookup.on_hand": "{location}：{quantity}",
        "lookup.no_stock": "本站点无库存",
        "sync.state.initial": "尚未同步",
        "sync.state.bootstrapping": "正在下载数据",
        "sync.state.syncing": "正在同步",
        "sync.state.live": "在线",
        "sync.state.retrying": "离线（稍后重试）",
        "sync.state.paused": "已暂停",
        "sync.state.error": "同步出错",
        "sync.pending": "待上传操作：{count}",
        "sync.last": "上次同步：{when}",
        "sync.never": "从未同步",
        "sync.inbox": "待处理问题：{count}",
        "sync.bootstrap": "下载进度：{done} / {total} 行",
        "sync.now": "立即同步",
        "sync.done": "同步完成：上传 {pushed}，拒绝 {rejected}，待上传 {pending}",
        "sync.failed": "无法连接服务器，数据已保存在本机，稍后自动重试",
        "inbox.empty": "没有待处理的问题",
        "inbox.kind.rejection": "被拒绝",
        "inbox.kind.conflict": "冲突",
        "inbox.kind.local_error": "本机无法执行",
        "inbox.resubmit": "修改后重新提交",
        "inbox.discard": "放弃",
        "inbox.acknowledge": "知道了",
        "inbox.resubmitted": "已重新提交，第 {seq} 号操作",
        "inbox.discarded": "已放弃",
        "inbox.acknowledged": "已确认",
        "inbox.yours": "本机的值：{value}",
        "inbox.server": "总部的值：{value}",
        "error.generic": "操作失败（{code}）：{message}",
    },
    "en": {
        "app.title": "Jiangcheng ERP tablet",
        "common.back": "Back",
        "common.save": "Save",
        "common.clear": "Clear",
        "common.saved": "Saved as operation #{seq}, waiting to sync",
        "common.switch_language": "中文",
        "common.busy": "Please wait…",
        "field.item": "Item (scan or type)",
        "field.location": "Location",
        "field.from": "From location",
        "field.to": "To location",
        "field.quantity": "Quantity",
        "field.counted": "Counted quantity",
        "field.lot": "Lot",
        "field.expiry": "Expiry (YYYY-MM-DD)",
        "field.reference": "Document no. / note",
        "field.username": "User name",
        "field.password": "Password",
        "field.search": "SKU, barcode, name or pinyin initials",
        "sign_in.title": "Sign in",
        "sign_in.button": "Sign in",
        "sign_in.online": "Signed in: {name} (checked by headquarters)",
        "sign_in.offline": "Signed in offline: {name} (checked by this tablet, until {until})",
        "sign_in.device": "Device {device} · site {site}",
        "home.title": "Hello, {name}",
        "home.roles": "Roles: {roles}",
        "home.sign_out": "Sign out",
        "home.nothing": "Your role has nothing to do on this tablet; ask your supervisor.",
        "home.summary": "{state} · {pending} to sync · {inbox} in the inbox",
        "screen.receipt": "Receive",
        "screen.transfer": "Transfer",
        "screen.count": "Stock count",
        "screen.lookup": "Item & stock lookup",
        "screen.sync": "Sync status",
        "screen.inbox": "Problem inbox",
        "receipt.gs1": "GS1 label read: lot {lot}, expiry {expiry}",
        "receipt.no_lot_field": "Lot and expiry go into the reference (no lot fields yet)",
        "count.system": "On hand here: {quantity}",
        "lookup.results": "{count} item(s) found",
        "lookup.none": "Nothing found",
        "lookup.indexing": "Building the pinyin index…",
        "lookup.on_hand": "{location}: {quantity}",
        "lookup.no_stock": "No stock in this site",
        "sync.state.initial": "Not synced yet",
        "sync.state.bootstrapping": "Downloading data",
        "sync.state.syncing": "Syncing",
        "sync.state.live": "Online",
        "sync.state.retrying": "Offline (retrying)",
        "sync.state.paused": "Paused",
        "sync.state.error": "Sync error",
        "sync.pending": "Waiting to upload: {count}",
        "sync.last": "Last sync: {when}",
        "sync.never": "Never synced",
        "sync.inbox": "Problems to look at: {count}",
        "sync.bootstrap": "Download: {done} / {total} rows",
        "sync.now": "Sync now",
        "sync.done": "Synced: {pushed} sent, {rejected} rejected, {pending} waiting",
        "sync.failed": "Cannot reach the server; your work is saved here and will be sent later",
        "inbox.empty": "Nothing to look at",
        "inbox.kind.rejection": "Rejected",
        "inbox.kind.conflict": "Conflict",
        "inbox.kind.local_error": "Cannot apply here",
        "inbox.resubmit": "Fix and resubmit",
        "inbox.discard": "Discard",
        "inbox.acknowledge": "Got it",
        "inbox.resubmitted": "Resubmitted as operation #{seq}",
        "inbox.discarded": "Discarded",
        "inbox.acknowledged": "Acknowledged",
        "inbox.yours": "This tablet's value: {value}",
        "inbox.server": "Headquarters' value: {value}",
        "error.generic": "Failed ({code}): {message}",
    },
}

# Stable error codes (from erp/, sync/, edge_client/ and this app) -> what a clerk reads.
ERRORS: dict[str, dict[str, str]] = {
    "zh_CN": {
        "mobile.missing_field": "请填写：{field}",
        "mobile.bad_quantity": "数量必须是大于零的数字",
        "mobile.bad_count": "盘点数量必须是零或正数",
        "mobile.bad_date": "日期格式应为 YYYY-MM-DD",
        "mobile.not_signed_in": "请先登录",
        "edge.not_found": "本机没有找到：{text}",
        "edge.sign_in_needs_network": "该用户第一次在本平板登录需要联网",
        "edge.sign_in_expired": "离线登录已过期，请联网登录",
        "edge.offline_wrong_password": "用户名或密码错误（还可尝试 {attempts_left} 次）",
        "edge.offline_locked": "密码错误次数过多，本平板已暂时锁定该用户",
        "edge.password_missing": "请输入密码",
        "auth.invalid_credentials": "用户名或密码错误",
        "auth.account_locked": "账户已锁定，请稍后再试或联系总部",
        "auth.user_out_of_site": "该用户不属于本站点",
        "auth.no_usable_permission": "该用户在本设备上没有权限",
        "auth.user_forbidden": "你的角色不能执行此操作",
        "inventory.negative_stock": "库存不足：现有 {on_hand}，需要 {requested}",
        "inventory.invalid_quantity": "数量不正确",
        "inventory.unknown_item": "物料不存在",
        "inventory.unknown_location": "库位不存在",
        "inventory.same_location": "移库的两个库位不能相同",
        "sync.field_conflict": "本机和总部同时修改了这个字段，请核对下面两个值",
        "gs1.bad_check_digit": "条码校验位错误，请重新扫描",
        "gs1.bad_date": "标签上的日期无效",
        "gs1.unknown_ai": "无法识别的 GS1 标签",
    },
    "en": {
        "mobile.missing_field": "Please fill in: {field}",
        "mobile.bad_quantity": "The quantity must be a number above zero",
        "mobile.bad_count": "The counted quantity must be zero or more",
        "mobile.bad_date": "Dates are written YYYY-MM-DD",
        "mobile.not_signed_in": "Please sign in first",
        "edge.not_found": "Not found on this tablet: {text}",
        "edge.sign_in_needs_network": "The first sign-in of this user on this tablet needs the network",
        "edge.sign_in_expired": "Offline sign-in has expired; sign in with the network",
        "edge.offline_wrong_password": "Wrong user name or password ({attempts_left} tries left)",
        "edge.offline_locked": "Too many wrong passwords: this user is locked on this tablet for a while",
        "edge.password_missing": "Please type the password",
        "auth.invalid_credentials": "Wrong user name or password",
        "auth.account_locked": "The account is locked; try later or call headquarters",
        "auth.user_out_of_site": "This user does not belong to this site",
        "auth.no_usable_permission": "This user has no permission on this device",
        "auth.user_forbidden": "Your role does not allow this",
        "inventory.negative_stock": "Not enough stock: {on_hand} on hand, {requested} needed",
        "inventory.invalid_quantity": "The quantity is not valid",
        "inventory.unknown_item": "This item does not exist",
        "inventory.unknown_location": "This location does not exist",
        "inventory.same_location": "A transfer needs two different locations",
        "sync.field_conflict": "Changed here and at headquarters at once; check both values below",
        "gs1.bad_check_digit": "Wrong check digit; scan again",
        "gs1.bad_date": "The label's date does not exist",
        "gs1.unknown_ai": "Not a GS1 label this tablet can read",
    },
}


class _Lenient(dict):
    def __missing__(self, key: str) -> str:
        return "?"


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


class Translator:
    """The current language and lookups in it. Changing the language tells ``listener``."""

    def __init__(self, language: str = DEFAULT_LANGUAGE) -> None:
        if language not in LANGUAGES:
            raise ValueError(f"language {language!r}: choose one of {', '.join(LANGUAGES)}")
        self.language = language
        self.listener: Callable[[str], None] | None = None

    def set_language(self, language: str) -> None:
        if language not in LANGUAGES:
            raise ValueError(f"language {language!r}: choose one of {', '.join(LANGUAGES)}")
        self.language = language
        if self.listener is not None:
            self.listener(language)

    def toggle(self) -> str:
        self.set_language(LANGUAGES[(LANGUAGES.index(self.language) + 1) % len(LANGUAGES)])
        return self.language

    def __call__(self, key: str, **values: Any) -> str:
        text = STRINGS[self.language].get(key) or STRINGS["en"].get(key) or key
        return text.format_map(_Lenient(values))

    def error(self, code: str, message: str = "", details: dict[str, Any] | None = None) -> str:
        """A clerk's sentence for an error code; the original message when there is none."""
        template = ERRORS[self.language].get(code)
        if template is None:
            return self("error.generic", code=code, message=message)
        return template.format_map(_Lenient({k: v for k, v in (details or {}).items()}))
