"""The multilingual bench's held-out people: run only to report, never to tune against.

Written on 2026-12-06, before the prompt's structure is tuned against
:data:`bench.multilingual.LANGUAGES` (the tuning set). Three people a
language; their names, places and facts are in no prompt, test or other bench
(``tests/unit_tests/test_memory.py`` checks). A change to the prompt or the
turn is measured on the tuning set; this set says how well it holds on people
it was never shaped by (``python -m bench.multilingual --held-out``).
"""

from __future__ import annotations

from bench.multilingual import Person

HELD_OUT: dict[str, tuple[Person, ...]] = {
    "ko": (
        Person(
            "태오",
            "보령",
            "논산",
            "안녕하세요! 저는 태오예요. 보령에 살아요. 제 고양이 이름은 누룽지예요.",
            "사실 지난달에 논산으로 이사했어요.",
            "제 고양이 이름이 뭐예요?",
            ("누룽지",),
        ),
        Person(
            "나윤",
            "영주",
            "문경",
            "반가워요, 저는 나윤이라고 해요. 영주에 살고 우쿨렐레를 연주해요.",
            "사실 지난달에 문경으로 이사했어요.",
            "제가 연주하는 악기가 뭐예요?",
            ("우쿨렐레",),
        ),
        Person(
            "은호",
            "밀양",
            "사천",
            "안녕! 나는 은호야. 밀양에 살아. 나는 키위 알레르기가 있어.",
            "사실 지난달에 사천으로 이사했어.",
            "나는 무슨 알레르기가 있어?",
            ("키위",),
        ),
    ),
    "ja": (
        Person(
            "陽菜",
            "米子",
            "出雲",
            "こんにちは！陽菜です。米子に住んでいます。飼っている犬の名前はあずきです。",
            "実は先月、出雲に引っ越しました。",
            "私の犬の名前は何ですか？",
            ("あずき",),
        ),
        Person(
            "蒼",
            "釧路",
            "帯広",
            "はじめまして、蒼といいます。釧路に住んでいて、趣味でトランペットを吹いています。",
            "実は先月、帯広に引っ越しました。",
            "私が吹いている楽器は何ですか？",
            ("トランペット",),
        ),
        Person(
            "凛",
            "岐阜",
            "大垣",
            "こんにちは。凛と申します。岐阜に住んでいます。くるみアレルギーがあります。",
            "実は先月、大垣に引っ越しました。",
            "私は何のアレルギーがありますか？",
            ("くるみ",),
        ),
    ),
    "fr": (
        Person(
            "Apolline",
            "Saumur",
            "Cholet",
            "Bonjour ! Je m'appelle Apolline, j'habite à Saumur et mon chien s'appelle Filou.",
            "En fait, j'ai déménagé à Cholet le mois dernier.",
            "Comment s'appelle mon chien ?",
            ("Filou",),
        ),
        Person(
            "Gwendal",
            "Auxerre",
            "Nevers",
            "Salut, moi c'est Gwendal. Je vis à Auxerre et je joue de la harpe.",
            "En fait, j'ai déménagé à Nevers le mois dernier.",
            "De quel instrument est-ce que je joue ?",
            ("harpe",),
        ),
        Person(
            "Mathurin",
            "Castres",
            "Albi",
            "Bonjour, je suis Mathurin, j'habite à Castres et je suis allergique aux fraises.",
            "En fait, j'ai déménagé à Albi le mois dernier.",
            "À quoi est-ce que je suis allergique ?",
            ("fraise",),
        ),
    ),
    "es": (
        Person(
            "Jimena",
            "Ourense",
            "Lugo",
            "¡Hola! Me llamo Jimena, vivo en Ourense y mi tortuga se llama Canela.",
            "En realidad, me mudé a Lugo el mes pasado.",
            "¿Cómo se llama mi tortuga?",
            ("Canela",),
        ),
        Person(
            "Iñaki",
            "Soria",
            "Segovia",
            "Buenas, soy Iñaki. Vivo en Soria y toco el acordeón.",
            "En realidad, me mudé a Segovia el mes pasado.",
            "¿Qué instrumento toco?",
            ("acordeón",),
        ),
        Person(
            "Maripaz",
            "Calatayud",
            "Tarazona",
            "Hola, soy Maripaz, vivo en Calatayud y soy alérgica al melocotón.",
            "En realidad, me mudé a Tarazona el mes pasado.",
            "¿A qué soy alérgica?",
            ("melocotón",),
        ),
    ),
    "de": (
        Person(
            "Hannelore",
            "Detmold",
            "Lemgo",
            "Hallo! Ich heiße Hannelore, wohne in Detmold und meine Katze heißt Flocke.",
            "Eigentlich bin ich letzten Monat nach Lemgo gezogen.",
            "Wie heißt meine Katze?",
            ("Flocke",),
        ),
        Person(
            "Jannik",
            "Emden",
            "Aurich",
            "Moin, ich bin Jannik. Ich lebe in Emden und spiele Posaune.",
            "Eigentlich bin ich letzten Monat nach Aurich gezogen.",
            "Welches Instrument spiele ich?",
            ("Posaune",),
        ),
        Person(
            "Greta",
            "Coburg",
            "Kulmbach",
            "Guten Tag, ich bin Greta, wohne in Coburg und bin allergisch gegen Senf.",
            "Eigentlich bin ich letzten Monat nach Kulmbach gezogen.",
            "Wogegen bin ich allergisch?",
            ("Senf",),
        ),
    ),
    "en": (
        Person(
            "Wendell",
            "Bozeman",
            "Fargo",
            "Hi! I'm Wendell, I live in Bozeman and my ferret is called Biscuit.",
            "Actually, I moved to Fargo last month.",
            "What's my ferret called?",
            ("Biscuit",),
        ),
        Person(
            "Cormac",
            "Tralee",
            "Killarney",
            "Hello, my name is Cormac. I live in Tralee and I play the mandolin.",
            "Actually, I moved to Killarney last month.",
            "Which instrument do I play?",
            ("mandolin",),
        ),
        Person(
            "Philippa",
            "Hereford",
            "Ludlow",
            "Hey, Philippa here. I live in Hereford and I'm allergic to walnuts.",
            "Actually, I moved to Ludlow last month.",
            "What am I allergic to?",
            ("walnut",),
        ),
    ),
}
"""Held-out people by language code: three each, in the tuning set's form."""
