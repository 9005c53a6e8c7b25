"""Russian and English for the pages: the language from a cookie (the switch), else
Accept-Language, else English. Texts live here as one table so a missing translation
is a visible gap in one place, not a stray literal in a template."""

from __future__ import annotations

from aiohttp import web

LANGUAGES = ("en", "ru")
LANG_COOKIE = "rd_lang"

TEXTS: dict[str, tuple[str, str]] = {
    "inbox": ("Inbox", "Входящие"),
    "admin": ("Admin", "Администрирование"),
    "rules": ("Rules", "Правила"),
    "agents": ("Agents and queues", "Агенты и очереди"),
    "account": ("My account", "Мой профиль"),
    "login": ("Log in", "Войти"),
    "logout": ("Log out", "Выйти"),
    "login_title": ("Log in to Relaydesk", "Вход в Relaydesk"),
    "login_field": ("Login", "Логин"),
    "password": ("Password", "Пароль"),
    "bad_login": ("Wrong login or password.", "Неверный логин или пароль."),
    "too_many_logins": (
        "Too many failed attempts; wait a few minutes and try again.",
        "Слишком много неудачных попыток; подождите несколько минут.",
    ),
    "session_expired": (
        "The form expired; please try again.",
        "Форма устарела, попробуйте ещё раз.",
    ),
    "status": ("Status", "Статус"),
    "channel": ("Channel", "Канал"),
    "tag": ("Tag", "Тег"),
    "queue": ("Queue", "Очередь"),
    "assignee": ("Assignee", "Исполнитель"),
    "overdue": ("Overdue", "Просрочено"),
    "any": ("any", "любой"),
    "open": ("open", "открыт"),
    "closed": ("closed", "закрыт"),
    "mine": ("mine", "мои"),
    "filter": ("Filter", "Фильтр"),
    "search": ("Search", "Поиск"),
    "contact": ("Contact", "Контакт"),
    "subject": ("Subject", "Тема"),
    "last_activity": ("Last activity", "Активность"),
    "unread": ("unread", "непрочитано"),
    "no_dialogs": ("No dialogs match.", "Нет подходящих диалогов."),
    "more": ("Older", "Ещё"),
    "conversation": ("Conversation", "Переписка"),
    "reply": ("Reply", "Ответ"),
    "note": ("Internal note", "Внутренняя заметка"),
    "send": ("Send", "Отправить"),
    "add_note": ("Add note", "Добавить заметку"),
    "reply_on": ("Reply goes out on", "Ответ уйдёт через"),
    "window_closed": (
        "The customer wrote more than 24 hours ago: only an approved template may be sent.",
        "Клиент писал больше 24 часов назад: можно отправить только утверждённый шаблон.",
    ),
    "window_open_until": ("Free-text replies allowed until", "Свободный ответ можно до"),
    "template_name": ("Template name", "Шаблон"),
    "template_language": ("Language", "Язык"),
    "template_params": ("Parameters, one a line", "Параметры, по одному на строку"),
    "tasks": ("Tasks", "Задачи"),
    "no_tasks": ("No tasks.", "Задач нет."),
    "priority": ("Priority", "Приоритет"),
    "sla_first": ("First response due", "Первый ответ до"),
    "sla_resolution": ("Resolution due", "Решение до"),
    "breached": ("SLA breached", "SLA нарушен"),
    "why_mine": ("Why is this mine?", "Почему это у меня?"),
    "rules_fired": ("Rules that fired", "Сработавшие правила"),
    "nobody": ("nobody", "никто"),
    "visitor": ("Visitor", "Посетитель"),
    "save": ("Save", "Сохранить"),
    "take": ("Take", "Взять"),
    "create_task": ("Make a task", "Создать задачу"),
    "task_title": ("Title", "Название"),
    "attachments": ("Attachments", "Вложения"),
    "delivery": ("Delivery", "Доставка"),
    "internal": ("note", "заметка"),
    "other_channel": ("another dialog of this contact", "другой диалог этого контакта"),
    "presence": ("Presence", "Статус"),
    "delete": ("Delete", "Удалить"),
    "view_name": ("View name", "Название вида"),
    "save_view": ("Save this view", "Сохранить вид"),
    "canned": ("Canned replies", "Шаблоны ответов"),
    "reports": ("Reports", "Отчёты"),
    "canned_title": ("Title", "Название"),
    "canned_body": ("Text", "Текст"),
    "canned_add": ("Add", "Добавить"),
    "canned_exists": (
        "A canned reply with that title exists.",
        "Шаблон с таким названием уже есть.",
    ),
    "canned_vars": ("Variables", "Переменные"),
    "is_viewing": ("is viewing this dialog", "смотрит этот диалог"),
    "is_typing": ("is typing a reply…", "печатает ответ…"),
    "online": ("online", "в сети"),
    "away": ("away", "отошёл"),
    "offline": ("offline", "не в сети"),
    "rules_editor": ("Rules editor", "Редактор правил"),
    "rules_file": ("File", "Файл"),
    "rules_version": ("Version in force", "Действующая версия"),
    "save_reload": ("Save and reload", "Сохранить и применить"),
    "saved": ("Saved: the new rules are in force.", "Сохранено: новые правила действуют."),
    "rules_invalid": (
        "Not saved: fix these errors (the rules in force are unchanged).",
        "Не сохранено: исправьте ошибки (действующие правила не изменились).",
    ),
    "dry_run": ("Dry run", "Пробный прогон"),
    "sample_text": ("Sample message", "Пример сообщения"),
    "run": ("Run", "Запустить"),
    "replay": ("Replay recent history", "Прогон по истории"),
    "since": ("Since", "За"),
    "examined": ("messages examined", "проверено сообщений"),
    "changed": ("would route differently", "изменится маршрут"),
    "undecided": ("not routed yet, skipped", "ещё не разобраны, пропущены"),
    "truncated": (
        "Only the oldest 20,000 messages of the window were replayed.",
        "Прогнаны только первые 20 000 сообщений периода.",
    ),
    "line": ("line", "строка"),
    "name": ("Name", "Имя"),
    "role": ("Role", "Роль"),
    "capacity": ("Capacity", "Ёмкость"),
    "load": ("Load", "Нагрузка"),
    "skills": ("Skills", "Навыки"),
    "teams": ("Teams", "Команды"),
    "waiting": ("Waiting", "Ожидают"),
    "add_agent": ("Add an agent", "Добавить агента"),
    "generated": ("generated if empty", "сгенерируется, если пусто"),
    "shown_once": ("shown once", "показывается один раз"),
    "capacity_hint": (
        "Capacity, skills and teams come from the rules file (Rules).",
        "Ёмкость, навыки и команды задаются в файле правил (Правила).",
    ),
    "account_created": ("Account created", "Учётная запись создана"),
    "account_exists": ("That login is taken.", "Такой логин уже есть."),
    "account_invalid": (
        "A login is 1-100 letters, digits, '.', '-' or '_'; the role agent or admin.",
        "Логин — 1-100 букв, цифр, '.', '-' или '_'; роль agent или admin.",
    ),
    "last_admin": (
        "The last admin cannot stop being one.",
        "Нельзя снять последнего администратора.",
    ),
    "open_tasks": ("Open tasks", "Открытые задачи"),
    "oldest_waiting": ("Oldest waiting", "Старейшая в ожидании"),
    "api_token": ("API token", "API-токен"),
    "token_hint": (
        "Use it as Authorization: Bearer <token>. It is shown once; a new one revokes the old.",
        "Передавайте как Authorization: Bearer <token>. Показывается один раз; новый отменяет "
        "старый.",
    ),
    "new_token": ("Generate a new token", "Выпустить новый токен"),
    "your_token": ("Your new token", "Ваш новый токен"),
    "forbidden": ("Only an admin may open this page.", "Эта страница только для администратора."),
    "not_found": ("Not found.", "Не найдено."),
    "live_lost": ("Live updates paused; reconnecting…", "Обновления прерваны; переподключение…"),
    "error": ("Error", "Ошибка"),
}


def pick_language(request: web.Request) -> str:
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    best, best_q = "en", -1.0
    for part in request.headers.get("Accept-Language", "").split(","):
        tag, _, params = part.strip().partition(";")
        lang = tag.strip().lower().split("-")[0]
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if lang in LANGUAGES and q > best_q:
            best, best_q = lang, q
    return best


class Translator:
    def __init__(self, lang: str) -> None:
        self.lang = lang
        self._index = LANGUAGES.index(lang)

    def __call__(self, key: str) -> str:
        return TEXTS[key][self._index]

    def table(self, keys: tuple[str, ...]) -> dict[str, str]:
        return {k: self(k) for k in keys}
